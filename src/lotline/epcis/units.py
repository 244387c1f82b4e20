"""UN/ECE Recommendation 20 unit codes (what EPCIS quantities carry) against lotline stocking units.

An item's ``uom`` is free text (``kg``, ``l``, ``ea``...). ``STOCKING_UNITS`` says which Rec 20 code each
common spelling is; ``UNITS`` gives each Rec 20 code its dimension and factor to the dimension's base, so a
quantity in grams converts to an item stocked in kilograms. A quantity without a uom is in the item's own
unit (EPCIS: a count when the item is counted). Refusals (``InvalidInput``) name the unit and the item:
an unknown code, a unit of another dimension (litres of an item stocked in kg), an item unit lotline
cannot relate to any code, or a conversion that needs more than the ledger's 6 decimal places.
"""

from __future__ import annotations

from decimal import Decimal

from lotline.errors import InvalidInput

# code -> (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[str, Decimal]] = {
    "KGM": ("mass", Decimal(1)),
    "GRM": ("mass", Decimal("0.001")),
    "MGM": ("mass", Decimal("0.000001")),
    "TNE": ("mass", Decimal(1000)),
    "LBR": ("mass", Decimal("0.45359237")),
    "ONZ": ("mass", Decimal("0.028349523125")),
    "LTR": ("volume", Decimal(1)),
    "MLT": ("volume", Decimal("0.001")),
    "CLT": ("volume", Decimal("0.01")),
    "MTQ": ("volume", Decimal(1000)),
    "GLL": ("volume", Decimal("3.785411784")),
    "MTR": ("length", Decimal(1)),
    "CMT": ("length", Decimal("0.01")),
    "MMT": ("length", Decimal("0.001")),
    "MTK": ("area", Decimal(1)),
    "H87": ("count", Decimal(1)),
    "EA": ("count", Decimal(1)),
    "C62": ("count", Decimal(1)),
    "NAR": ("count", Decimal(1)),
    "XPK": ("package", Decimal(1)),
    "XBX": ("box", Decimal(1)),
    "XCS": ("case", Decimal(1)),
}

# lotline stocking unit spellings (lower-cased) -> Rec 20 code
STOCKING_UNITS: dict[str, str] = {
    "kg": "KGM", "kgs": "KGM", "kilogram": "KGM", "kilograms": "KGM",
    "g": "GRM", "gram": "GRM", "grams": "GRM", "mg": "MGM", "t": "TNE", "tonne": "TNE",
    "lb": "LBR", "lbs": "LBR", "oz": "ONZ",
    "l": "LTR", "lt": "LTR", "litre": "LTR", "liter": "LTR", "litres": "LTR", "liters": "LTR",
    "ml": "MLT", "cl": "CLT", "m3": "MTQ", "gal": "GLL",
    "m": "MTR", "cm": "CMT", "mm": "MMT", "m2": "MTK",
    "ea": "H87", "each": "H87", "pc": "H87", "pcs": "H87", "piece": "H87", "pieces": "H87", "unit": "H87",
    "units": "H87",
    "pk": "XPK", "pack": "XPK", "box": "XBX", "case": "XCS", "cs": "XCS",
}
_STEP = Decimal("0.000001")


def rec20_of(item_uom: str) -> str | None:
    """The Rec 20 code of an item's stocking unit (the code itself when the item is stocked in one)."""
    upper = item_uom.strip().upper()
    if upper in UNITS:
        return "H87" if upper in ("EA", "C62", "NAR") else upper
    return STOCKING_UNITS.get(item_uom.strip().lower())


def to_stocking(quantity: Decimal, code: str | None, *, item_uom: str, sku: str, where: str) -> Decimal:
    """``quantity`` in unit ``code`` expressed in the item's stocking unit."""
    if code is None:
        return quantity
    if code not in UNITS:
        raise InvalidInput(f"{where}: unknown UN/ECE Rec 20 unit {code!r} for item {sku}", uom=code, sku=sku)
    target = rec20_of(item_uom)
    if target is None:
        raise InvalidInput(
            f"{where}: item {sku} is stocked in {item_uom!r}, which lotline cannot relate to {code}; "
            "send the quantity without a uom (in the item's unit)",
            uom=code,
            sku=sku,
        )
    if target == code:
        return quantity
    dim, factor = UNITS[code]
    target_dim, target_factor = UNITS[target]
    if dim != target_dim:
        raise InvalidInput(
            f"{where}: unit {code} ({dim}) cannot be converted to item {sku}'s stocking unit {item_uom!r} ({target_dim})",
            uom=code,
            sku=sku,
        )
    value = quantity * factor / target_factor
    if value != value.quantize(_STEP):
        raise InvalidInput(
            f"{where}: {quantity} {code} is {value} {item_uom} for item {sku}, more than 6 decimal places",
            uom=code,
            sku=sku,
        )
    return value.quantize(_STEP).normalize()
