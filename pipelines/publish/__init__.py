"""What a reader gets for one release: the charts, tables and index page under reports/<release>/.

- release_report.py  the marts and model tables turned into chart and table inputs, then written
- index_page.py      index.html listing every chart and table with its definition
"""
