"""Schemathesis hooks for the contract run (loaded through SCHEMATHESIS_HOOKS).

``schema_valid_fields_are_accepted``: a request generated from the schema (positive mode) must
not be answered 400, nor 422 with a problem whose ``errors`` name a field — that would mean the
schema lets through a value the validation refuses. A 422 for a lot rule (insufficient stock, a
lot not released...) or for a rule between fields (no ``errors``, or errors on the body as a
whole) is the domain speaking, and is allowed.
"""

from __future__ import annotations

import json

import schemathesis
from schemathesis.core.failures import Failure

LOCATIONS = {"body", "query", "path", "header", "cookie"}


class FieldRejected(Failure):
    def __init__(self, *, operation: str, message: str) -> None:
        super().__init__(operation=operation, title="Schema-valid field rejected", message=message)

    @property
    def _unique_key(self) -> str:
        return self.message


def _field_errors(body: dict) -> list[str]:
    out = []
    for error in body.get("errors") or []:
        loc = [str(x) for x in error.get("loc", [])]
        if loc and loc[0] in LOCATIONS:
            loc = loc[1:]
        if loc:
            out.append(f"{'.'.join(loc)}: {error.get('msg')}")
    return out


@schemathesis.check
def schema_valid_fields_are_accepted(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code not in (400, 422):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        body = {}
    if response.status_code == 400:
        raise FieldRejected(operation=case.operation.label, message=f"400 for a schema-valid request: {body}")
    fields = _field_errors(body) if isinstance(body, dict) else []
    if fields:
        raise FieldRejected(operation=case.operation.label,
                            message="schema-valid fields refused: " + "; ".join(fields))
    return None
