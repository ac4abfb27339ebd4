"""SQL statements kept in `sql/` and read by the Python that runs them.

A statement that is not a model (one table per file under `sql/staging` or `sql/marts`) but is run
by a module, such as the release diff, lives in `sql/<concern>/<name>.sql`, one statement a file,
so that the SQL can be read, linted and diffed as SQL.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pipelines.settings import SQL_DIR


@cache
def read_sql(relative: str, sql_dir: Path = SQL_DIR) -> str:
    """The statement in `sql/<relative>`, without its trailing semicolon.

    Comments stay: callers that embed the statement in another (`DESCRIBE (...)`) put it on lines
    of its own, so a trailing `--` comment cannot swallow the closing parenthesis.
    """
    path = sql_dir / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path}: SQL file missing (the package expects it under sql/)")
    return path.read_text(encoding="utf-8").strip().rstrip(";").rstrip()
