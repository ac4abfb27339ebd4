"""FOIA releases as a whole: find them under data/raw/, watch for new ones, download EOIR's zip,
diff a release against the previous one, and keep the `latest.*` views (Dagster-free).

- find.py      which releases are under data/raw/ and whether each is complete
- watch.py     tick-by-tick decisions for the sensor (stable, complete, new, broken)
- download.py  resumable, checked download of EOIR's case-data zip
- diff.py      what changed between two releases in the warehouse
- latest.py    complete releases and the `latest.*` views on the newest
"""
