"""The `pdpipeline` command (main.py) and the in-process runner that materializes a release
(runner.py); the same Definitions that `dagster dev` opens."""
