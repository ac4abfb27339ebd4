"""Publication charts (Altair, exported with vl-convert) for scholars; no Dagster imports.

- theme.py        the print theme (serif, Okabe-Ito reordered for grayscale, 252/504 px widths)
- provenance.py   Provenance, the SYNTHETIC mark (subtitle, watermark, footnote), finish()
- export.py       export_chart(): SVG, PDF, PNG (300 ppi), Vega-Lite JSON, CSV behind the chart
- closures.py, rates_over_time.py, courts.py, models.py, removals.py   one module per family,
                  each with prepare_<family>() (suppression) and make_<family>_chart()
- families.py     FAMILIES registry and render_chart() (prepare -> make -> export)
- report_index.py build_report() / write_report_index(): every chart and table in index.html
- demo_data.py, bench.py   demo inputs and the export benchmark
Tables (CSV/Markdown/LaTeX) and small-cell suppression live in pipelines.tables.
"""
