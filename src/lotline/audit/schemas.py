"""The audit trail query (CLI and API): which entries, checked at the edge."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from lotline.types import Input, Ref, Timestamp

TableName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]


class AuditQuery(Input):
    table: TableName | None = None
    record: Ref | None = None
    lot: Ref | None = None
    item: Ref | None = None
    user: Ref | None = None
    since: Timestamp | None = None
    until: Timestamp | None = None
    limit: Annotated[int, Field(ge=1, le=100_000)] = 1000

    @model_validator(mode="after")
    def _check(self) -> AuditQuery:
        if self.item is not None and self.lot is None:
            raise ValueError("item names the lot's item when its code repeats: give it with lot")
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be after since")
        return self

    def window(self) -> tuple[datetime | None, datetime | None]:
        return self.since, self.until
