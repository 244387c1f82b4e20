"""Spreadsheet formula injection: the one rule every CSV export applies to its text cells.

A spreadsheet opening a CSV runs a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (``=HYPERLINK(...)``, ``@SUM(...)``, DDE payloads). Names, codes and notes come
from customers, vendors and users, so every CSV export passes its text through ``cell``: such a value
gets a single quote in front (OWASP "CSV Injection" guidance), which spreadsheets show as text and
never evaluate. A value that is entirely a plain decimal number of ASCII digits (``-5``, ``-0.25``) is left as it is:
it cannot be a formula, and a negative quantity must stay a number for the spreadsheet to sum it.
The XLSX writer needs none of this: its strings are typed inline strings, never formulas.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# ASCII digits only: ``\d`` also matched other scripts' digits ("-\u0663"), which no spreadsheet reads as
# a number — it evaluated such a cell as a formula. reports/sql/fsma204_export.sql applies this same rule.
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet evaluates (see module doc)."""
    if text.startswith(FORMULA_STARTS) and _PLAIN_NUMBER.fullmatch(text) is None:
        return "'" + text
    return text


def value_cell(value: Any) -> str:
    """Any value as a safe CSV cell: None is empty, the rest its ``str`` through ``cell``."""
    return "" if value is None else cell(str(value))
