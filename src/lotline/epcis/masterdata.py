"""Master data behind EPCIS identifiers: which item, location, vendor or customer an identifier names.

``Registry`` resolves parsed identifiers (see ``identifiers``) to lotline records — GTINs and GLNs through
``gs1_identifiers`` (several per record), lotline URNs through SKUs and codes — caching what it found for
the rest of a capture job. An unknown identifier is refused (``NotFound`` naming it) unless the job was
started with ``create=True``; it then creates the record from the document's master data
(``epcisHeader.epcisMasterData``: lotline's own ``urn:lotline:mda:*`` attributes, or CBV's
``descriptionShort``/``name``) or, without master data, from the identifier itself (SKU / code = the GTIN
or GLN digits), and registers the identifier. Records created inside an event that is then refused are
forgotten with it (``forget_since``), and so are records found meanwhile (one may be a record
created earlier in the same savepoint under another identifier), so the cache never names rolled-back
rows.

``add_identifier`` is the service behind ``lotline epcis id add`` and the spreadsheet imports.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.epcis import identifiers as ids
from lotline.epcis.units import UNITS
from lotline.errors import DuplicateKey, InvalidInput, NotFound
from lotline.models import Customer, Item, Location, Vendor

MDA = "urn:lotline:mda:"
CBV_MDA = "urn:epcglobal:cbv:mda#"
_MODEL: dict[str, type[Item] | type[Location] | type[Vendor] | type[Customer]] = {"item": Item, "location": Location, "vendor": Vendor, "customer": Customer}
_KEY = {"item": "sku", "location": "code", "vendor": "code", "customer": "code"}
# Rec 20 code -> the stocking unit spelling lotline gives an item it creates
_UOM_FOR = {"KGM": "kg", "GRM": "g", "LTR": "l", "MLT": "ml", "H87": "ea", "EA": "ea", "C62": "ea", "TNE": "t", "MTR": "m"}


@dataclass(frozen=True)
class Rec:
    id: uuid.UUID
    code: str  # SKU or code
    uom: str = ""
    lot_tracked: bool = True
    kind: str = ""


def add_identifier(
    session: Session, target: str, record_id: uuid.UUID, scheme: str, digits: str, *, extension: str = "",
    company_prefix_length: int | None = None,
) -> None:
    """Attach a GTIN (items) or GLN (others) to a record; DuplicateKey if another record of the kind has it."""
    if (scheme == "gtin") != (target == "item"):
        raise InvalidInput(f"a {target} is identified by a {'GTIN' if target == 'item' else 'GLN'}, not a {scheme.upper()}")
    digits = ids.normalise_gtin(digits) if scheme == "gtin" else ids.normalise_gln(digits)
    if company_prefix_length is not None and not 6 <= company_prefix_length <= 12:
        raise InvalidInput(f"company prefix length {company_prefix_length} must be 6..12")
    owner = session.execute(
        sa.text(
            "SELECT coalesce(item_id, location_id, vendor_id, customer_id) FROM gs1_identifiers"
            " WHERE target = :t AND scheme = :s AND digits = :d AND extension = :e"
        ),
        {"t": target, "s": scheme, "d": digits, "e": extension},
    ).scalar()
    if owner is not None:
        if owner == record_id:
            return
        raise DuplicateKey(f"{scheme.upper()} {digits}{'/' + extension if extension else ''} already names another {target}")
    session.execute(
        sa.text(
            f"INSERT INTO gs1_identifiers (id, target, scheme, digits, extension, company_prefix_length, {target}_id)"
            " VALUES (:id, :t, :s, :d, :e, :n, :r)"
        ),
        {"id": uuid.uuid4(), "t": target, "s": scheme, "d": digits, "e": extension, "n": company_prefix_length, "r": record_id},
    )


def identifiers_of(session: Session, target: str, record_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str, int | None]]:
    """One identifier per record (the first registered): id -> (digits, extension, company_prefix_length)."""
    if not record_ids:
        return {}
    rows = session.execute(
        sa.text(
            f"SELECT DISTINCT ON ({target}_id) {target}_id, digits, extension, company_prefix_length"
            f" FROM gs1_identifiers WHERE {target}_id = ANY(:ids) ORDER BY {target}_id, created_at, id"
        ),
        {"ids": record_ids},
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def vocabulary_index(header: dict) -> dict[tuple, dict[str, Any]]:
    """Master data elements of a document header, keyed like the identifiers they describe."""
    out: dict[tuple, dict[str, Any]] = {}
    md = (header.get("epcisHeader") or {}).get("epcisMasterData") or {}
    for voc in md.get("vocabularyList") or []:
        for el in voc.get("vocabularyElementList") or []:
            attrs = {a["id"]: a.get("attribute") for a in el.get("attributes") or [] if isinstance(a, dict) and "id" in a}
            try:
                out[_element_key(el["id"])] = attrs
            except (InvalidInput, KeyError):
                continue  # master data about something lotline does not track
    return out


def _element_key(raw: str) -> tuple:
    try:
        ref = ids.parse_class(raw)
        return ("item", *ref.item_key)
    except InvalidInput:
        place = ids.parse_place(raw)
        if place.kind == "location":
            return ("location", place.gln, place.extension) if place.gln else ("location", "code", place.code)
        return ("party", place.gln) if place.gln else ("party", place.role, place.code)


class Registry:
    """Identifier -> record resolution for one capture job (see module doc)."""

    def __init__(self, session: Session | None, *, create: bool, vocabulary: dict[tuple, dict[str, Any]] | None = None):
        self.session = session
        self.create = create
        self.vocabulary = vocabulary or {}
        self._cache: dict[tuple, Rec] = {}
        self._journal: list[tuple] = []

    @property
    def db(self) -> Session:
        """The session of the transaction the registry is bound to (capture binds one per chunk)."""
        if self.session is None:
            raise RuntimeError("the registry is not bound to a session yet")
        return self.session

    def mark(self) -> int:
        return len(self._journal)

    def forget_since(self, mark: int) -> None:
        for key in self._journal[mark:]:
            self._cache.pop(key, None)
        del self._journal[mark:]

    def _remember(self, key: tuple, rec: Rec) -> Rec:
        self._cache[key] = rec
        # Found records are journaled too, not only created ones: a record found by its code may
        # have been created earlier in the same savepoint (a chunk tried whole, a bulk chunk's
        # planning) under another identifier; a rollback must forget it as well. Forgetting a
        # committed record costs one lookup again.
        self._journal.append(key)
        return rec

    def _by_identifier(self, target: str, scheme: str, digits: str, extension: str = "") -> uuid.UUID | None:
        return self.db.execute(
            sa.text(
                f"SELECT {target}_id FROM gs1_identifiers WHERE target = :t AND scheme = :s AND digits = :d AND extension = :e"
            ),
            {"t": target, "s": scheme, "d": digits, "e": extension},
        ).scalar()

    def _rec(self, target: str, record) -> Rec:
        if target == "item":
            return Rec(record.id, record.sku, record.uom, record.lot_tracked)
        return Rec(record.id, record.code, kind=getattr(record, "kind", ""))

    def _load(self, target: str, *, record_id: uuid.UUID | None = None, code: str | None = None):
        model = _MODEL[target]
        col = model.id if record_id is not None else getattr(model, _KEY[target])
        return self.db.scalar(sa.select(model).where(col == (record_id if record_id is not None else code)))

    def known_item(self, raw: str) -> Rec | None:
        """The item an identifier named earlier in this job (no query, nothing created), or None."""
        try:
            return self._cache.get(("item", *ids.parse_class(raw).item_key))
        except InvalidInput:
            return None

    def known_location(self, raw: str) -> Rec | None:
        """The location an identifier named earlier in this job (no query, nothing created), or None."""
        try:
            place = ids.parse_place(raw)
        except InvalidInput:
            return None
        key = ("location", place.gln, place.extension) if place.gln else ("location", "code", place.code)
        return self._cache.get(key)

    def known_party(self, raw: Any, role: str) -> Rec | None:
        """The vendor or customer an identifier named earlier in this job (no query, nothing created), or None."""
        if not isinstance(raw, str):
            return None
        try:
            place = ids.parse_place(raw)
        except InvalidInput:
            return None
        if place.role and place.role != role:
            return None
        return self._cache.get((role, place.gln) if place.gln else (role, "code", place.code))

    # --- items ---------------------------------------------------------------------------------

    def item(self, raw: str, ref: ids.ClassRef, *, uom_code: str | None, where: str) -> Rec:
        key = ("item", *ref.item_key)
        if key in self._cache:
            return self._cache[key]
        if ref.gtin:
            rid = self._by_identifier("item", "gtin", ref.gtin)
            record = self._load("item", record_id=rid) if rid else None
        else:
            record = self._load("item", code=ref.sku)
        if record is not None:
            return self._remember(key, self._rec("item", record))
        if not self.create:
            raise NotFound(
                f"{where}: no item is identified by {raw!r}; add its GTIN to an item (lotline epcis id add) "
                "or import with --create-master-data",
                kind="item",
                ref=raw,
            )
        attrs = self.vocabulary.get(key, {})
        sku = str(attrs.get(MDA + "sku") or ref.sku or ref.gtin)
        uom = str(attrs.get(MDA + "uom") or _UOM_FOR.get(uom_code or "", (uom_code or "ea").lower() if uom_code in UNITS else "ea"))
        existing = self._load("item", code=sku)
        if existing is not None:
            item = existing
        else:
            shelf = attrs.get(MDA + "shelfLifeDays")
            item = catalog.create_item(
                self.db,
                ItemIn(
                    sku=sku,
                    name=str(attrs.get(MDA + "name") or attrs.get(CBV_MDA + "descriptionShort") or f"GTIN {ref.gtin or sku}"),
                    uom=uom,
                    lot_tracked=_bool(attrs.get(MDA + "lotTracked"), default=ref.lot is not None or not attrs),
                    shelf_life_days=int(shelf) if shelf not in (None, "") else None,
                ),
            )
        if ref.gtin:
            add_identifier(self.db, "item", item.id, "gtin", ref.gtin, company_prefix_length=ref.company_prefix_length)
        return self._remember(key, self._rec("item", item))

    # --- locations and parties -----------------------------------------------------------------

    def location(self, raw: str, *, where: str) -> Rec:
        place = ids.parse_place(raw)
        if place.kind != "location":
            raise InvalidInput(f"{where}: {raw!r} names a party, not a location", identifier=raw)
        key = ("location", place.gln, place.extension) if place.gln else ("location", "code", place.code)
        if key in self._cache:
            return self._cache[key]
        if place.gln:
            rid = self._by_identifier("location", "gln", place.gln, place.extension)
            record = self._load("location", record_id=rid) if rid else None
        else:
            record = self._load("location", code=place.code)
        if record is not None:
            return self._remember(key, self._rec("location", record))
        if not self.create:
            raise NotFound(
                f"{where}: no location is identified by {raw!r}; add its GLN to a location (lotline epcis id add) "
                "or import with --create-master-data",
                kind="location",
                ref=raw,
            )
        attrs = self.vocabulary.get(key, {})
        code = str(attrs.get(MDA + "code") or place.code or (f"{place.gln}-{place.extension}" if place.extension else f"{place.gln}"))
        record = self._load("location", code=code) or catalog.create_location(
            self.db,
            LocationIn(
                code=code,
                name=str(attrs.get(MDA + "name") or attrs.get(CBV_MDA + "name") or f"GLN {place.gln or code}"),
                kind=str(attrs.get(MDA + "kind") or "storage"),
            ),
        )
        if place.gln:
            add_identifier(self.db, "location", record.id, "gln", place.gln, extension=place.extension,
                           company_prefix_length=place.company_prefix_length)
        return self._remember(key, self._rec("location", record))

    def party(self, raw: str, role: str, *, where: str) -> Rec:
        """A vendor (role='vendor') or customer named by a PGLN, an SGLN of its site, or a lotline URN."""
        place = ids.parse_place(raw)
        if place.role and place.role != role:
            raise InvalidInput(f"{where}: {raw!r} names a {place.role}, but a {role} is needed here", identifier=raw)
        key = (role, place.gln) if place.gln else (role, "code", place.code)
        if key in self._cache:
            return self._cache[key]
        if place.gln:
            rid = self._by_identifier(role, "gln", place.gln)
            record = self._load(role, record_id=rid) if rid else None
        else:
            record = self._load(role, code=place.code)
        if record is not None:
            return self._remember(key, self._rec(role, record))
        if not self.create:
            raise NotFound(
                f"{where}: no {role} is identified by {raw!r}; add its GLN to a {role} (lotline epcis id add) "
                "or import with --create-master-data",
                kind=role,
                ref=raw,
            )
        attrs = self.vocabulary.get(("party", place.gln) if place.gln else ("party", role, place.code), {})
        code = str(attrs.get(MDA + "code") or place.code or place.gln)
        record = self._load(role, code=code)
        if record is None:
            data = PartyIn(
                code=code,
                name=str(attrs.get(MDA + "name") or attrs.get(CBV_MDA + "name") or f"GLN {place.gln or code}"),
                contact_email=attrs.get(MDA + "email") or None,
            )
            record = (catalog.create_vendor if role == "vendor" else catalog.create_customer)(self.db, data)
        if place.gln:
            add_identifier(self.db, role, record.id, "gln", place.gln, company_prefix_length=place.company_prefix_length)
        return self._remember(key, self._rec(role, record))


def _bool(value: Any, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")
