"""Analysis-ready extracts of the marts for Stata, R and Python users, with a codebook.

Dagster-free: `pipelines.extracts.write.write_extracts` is called by the `extracts` asset and by
`pdpipeline extract`. Column definitions: `pipelines.extracts.columns`.
"""
