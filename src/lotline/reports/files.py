"""File names and download headers built from data (recall numbers), never from raw text.

New recall numbers are validated (``recalls.schemas.RecallNumber``), but numbers stored by older
versions may hold anything: ``../../x``, quotes, line breaks, non-Latin-1 letters. So a name made
from one keeps letters, digits, ``.``, ``_`` and ``-`` and turns every other character into ``_``; it
cannot start with a dot (hidden file, ``..``) and never holds a path separator, so it stays inside
the directory it is written to. ``content_disposition`` follows RFC 6266: an ASCII ``filename`` for
old clients and the exact UTF-8 name as ``filename*`` (RFC 8187), so the header is always ASCII
(Latin-1-only HTTP stacks answer 500 otherwise) and cannot be split or given a second parameter.
"""

from __future__ import annotations

from urllib.parse import quote

_MAX_STEM = 120


def safe_name(text: str, *, fallback: str = "export") -> str:
    """``text`` as one file name component (see module doc); ``fallback`` when nothing is left."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in text)[:_MAX_STEM]
    cleaned = cleaned.lstrip(".")
    return cleaned or fallback


def export_name(number: str, kind: str, suffix: str) -> str:
    """``<number>-<kind>.<suffix>`` with the number made safe (``kind``/``suffix`` are ours)."""
    return f"{safe_name(number, fallback='recall')}-{kind}.{suffix}"


def content_disposition(filename: str, *, disposition: str = "attachment") -> str:
    """An RFC 6266 Content-Disposition value for ``filename`` (made safe first)."""
    name = safe_name(filename)
    ascii_name = "".join(c if c.isascii() else "_" for c in name)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
