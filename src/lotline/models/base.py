"""The declarative base and the column helpers every mapping uses (ids, created/updated stamps)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> uuid.UUID:
    return uuid.uuid4()


Qty = Numeric(18, 6)


class Base(DeclarativeBase):
    type_annotation_map = {uuid.UUID: UUID(as_uuid=True), Decimal: Qty, dict[str, Any]: JSONB}


def pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=new_id)


def created() -> Mapped[datetime]:
    return mapped_column(server_default=func.now())


def updated() -> Mapped[datetime]:
    return mapped_column(default=func.now(), onupdate=func.now())
