"""Loader for the set-based SQL kept in ``<package>/sql/*.sql`` files."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load_sql(package: str, name: str) -> str:
    """Text of ``sql/<name>.sql`` inside ``package`` (e.g. ``load_sql("lotline.trace", "forward")``)."""
    return resources.files(package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
