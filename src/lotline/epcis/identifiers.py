"""GS1 identifiers as EPCIS carries them: GTINs (items, lots), GLNs (locations, parties).

Parses and emits the three spellings a trading partner may send for the same thing:
- EPC URNs: ``urn:epc:class:lgtin:CP.IR.LOT`` (a lot of a trade item), ``urn:epc:idpat:sgtin:CP.IR.*``
  (the trade item, any lot), ``urn:epc:id:sgtin:CP.IR.SERIAL`` (one instance), ``urn:epc:id:sgln:CP.LR.EXT``
  (a location), ``urn:epc:id:pgln:CP.PR`` (a party);
- GS1 Digital Link URIs on any host: ``https://id.gs1.org/01/GTIN[/10/LOT][/21/SERIAL]``, ``/414/GLN[/254/EXT]``,
  ``/417/PGLN``;
- lotline's own URNs for records that have no GS1 key (``urn:lotline:lot:SKU:LOT``, ``urn:lotline:item:SKU``,
  ``urn:lotline:loc:CODE``, ``urn:lotline:vendor:CODE``, ``urn:lotline:customer:CODE``), so that any lotline
  database can be exported and imported again without losing a record.

Invariants: GTINs are normalised to 14 digits and GLNs to 13, and their check digit is verified. A URN's
company prefix (6..12 digits) plus the item/location reference must make exactly 13 / 12 digits, so the
prefix length travels with the URN; emitting a URN needs it (``company_prefix_length``) and Digital Link
does not. Lot codes and serials keep their exact text (case, leading zeros): they are percent-decoded on
the way in and percent-encoded on the way out, nothing else. Every refusal is an ``InvalidInput`` naming
the identifier and what is wrong with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

from lotline.errors import InvalidInput

DIGITAL_LINK_HOST = "https://id.gs1.org"
# Characters left as they are inside a URN / Digital Link path component (RFC 3986 unreserved plus
# the sub-delimiters GS1's URN grammar allows); anything else is percent-encoded.
_SAFE = "!'()*+,-.:;=_"
_DIGITS = re.compile(r"^\d+$")


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of ``body`` (all digits but the last), weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def _verify(digits: str, what: str, raw: str) -> str:
    if check_digit(digits[:-1]) != digits[-1]:
        raise InvalidInput(
            f"{what} {digits} in {raw!r} has a wrong check digit (expected {check_digit(digits[:-1])})",
            identifier=raw,
        )
    return digits


def normalise_gtin(value: str, *, raw: str | None = None) -> str:
    """A GTIN-8/12/13/14 as 14 digits, check digit verified."""
    raw = raw or value
    if not _DIGITS.match(value) or len(value) not in (8, 12, 13, 14):
        raise InvalidInput(f"GTIN {value!r} in {raw!r} must be 8, 12, 13 or 14 digits", identifier=raw)
    return _verify(value.zfill(14), "GTIN", raw)


def normalise_gln(value: str, *, raw: str | None = None) -> str:
    raw = raw or value
    if not _DIGITS.match(value) or len(value) != 13:
        raise InvalidInput(f"GLN {value!r} in {raw!r} must be 13 digits", identifier=raw)
    return _verify(value, "GLN", raw)


@dataclass(frozen=True)
class ClassRef:
    """What a quantity or EPC names: a trade item (GTIN or lotline SKU), maybe a lot, maybe one serial."""

    gtin: str | None = None
    sku: str | None = None
    lot: str | None = None
    serial: str | None = None
    company_prefix_length: int | None = None

    @property
    def item_key(self) -> tuple[str, str]:
        return ("gtin", self.gtin) if self.gtin else ("sku", self.sku or "")


@dataclass(frozen=True)
class PlaceRef:
    """A location (SGLN / lotline code) or a party (PGLN / lotline vendor or customer code)."""

    kind: str  # 'location' | 'party'
    gln: str | None = None
    extension: str = ""
    code: str | None = None
    role: str | None = None  # lotline party URNs say vendor or customer
    company_prefix_length: int | None = None


def _urn_parts(raw: str, body: str, n: int) -> list[str]:
    parts = body.split(".")
    if len(parts) != n:
        raise InvalidInput(f"{raw!r} must have {n} dot-separated parts", identifier=raw)
    return parts


def _gtin_from_urn(raw: str, cp: str, ir: str) -> tuple[str, int]:
    if not (_DIGITS.match(cp) and _DIGITS.match(ir)):
        raise InvalidInput(f"{raw!r}: company prefix and item reference must be digits", identifier=raw)
    if not 6 <= len(cp) <= 12 or len(cp) + len(ir) != 13:
        raise InvalidInput(
            f"{raw!r}: company prefix ({len(cp)} digits) and indicator + item reference ({len(ir)} digits) "
            "must make 13 digits, with a 6..12-digit prefix",
            identifier=raw,
        )
    body = ir[0] + cp + ir[1:]
    return body + check_digit(body), len(cp)


def _gln_from_urn(raw: str, cp: str, ref: str) -> tuple[str, int]:
    if not (_DIGITS.match(cp) and (ref == "" or _DIGITS.match(ref))):
        raise InvalidInput(f"{raw!r}: company prefix and reference must be digits", identifier=raw)
    if not 6 <= len(cp) <= 12 or len(cp) + len(ref) != 12:
        raise InvalidInput(
            f"{raw!r}: company prefix ({len(cp)} digits) and reference ({len(ref)} digits) must make 12 digits, "
            "with a 6..12-digit prefix",
            identifier=raw,
        )
    body = cp + ref
    return body + check_digit(body), len(cp)


def _decode(raw: str, text: str, what: str) -> str:
    value = unquote(text)
    if value == "":
        raise InvalidInput(f"{raw!r}: empty {what}", identifier=raw)
    return value


def _digital_link(raw: str) -> tuple[str, dict[str, str]] | None:
    """The GS1 key pairs of a Digital Link URI (None when the path holds no GS1 primary key)."""
    parts = urlsplit(raw)
    segs = parts.path.split("/")
    for start, seg in enumerate(segs):
        if seg in ("01", "414", "417", "8004", "00") and start + 1 < len(segs):
            rest = segs[start:]
            if len(rest) % 2:
                raise InvalidInput(f"Digital Link {raw!r} has a key without a value", identifier=raw)
            pairs = {rest[i]: unquote(rest[i + 1]) for i in range(0, len(rest), 2)}
            return seg, pairs
    return None


# A capture names each lot class in several events (its receipt, the transformations and shipments
# that use it) and each place in most: parsed once per recent identifier. The results are frozen and
# a refusal (InvalidInput) is never cached, so a cached answer is the answer; bounded, so memory
# stays flat over a document of any size.
_PARSED = 4096


def parse_class(raw: str) -> ClassRef:
    """An epcClass or EPC naming a trade item: LGTIN / SGTIN / idpat URN, Digital Link, lotline URN."""
    if not isinstance(raw, str) or not raw:
        raise InvalidInput(f"identifier {raw!r} must be a non-empty string", identifier=str(raw))
    return _parse_class(raw)


@lru_cache(maxsize=_PARSED)
def _parse_class(raw: str) -> ClassRef:
    if raw.startswith("urn:epc:class:lgtin:"):
        cp, ir, lot = _urn_parts(raw, raw.removeprefix("urn:epc:class:lgtin:"), 3)
        gtin, n = _gtin_from_urn(raw, cp, ir)
        return ClassRef(gtin=gtin, lot=_decode(raw, lot, "lot"), company_prefix_length=n)
    if raw.startswith("urn:epc:idpat:sgtin:"):
        cp, ir, star = _urn_parts(raw, raw.removeprefix("urn:epc:idpat:sgtin:"), 3)
        if star != "*":
            raise InvalidInput(f"{raw!r}: only the whole-item pattern CP.IR.* is understood", identifier=raw)
        gtin, n = _gtin_from_urn(raw, cp, ir)
        return ClassRef(gtin=gtin, company_prefix_length=n)
    if raw.startswith("urn:epc:id:sgtin:"):
        cp, ir, serial = _urn_parts(raw, raw.removeprefix("urn:epc:id:sgtin:"), 3)
        gtin, n = _gtin_from_urn(raw, cp, ir)
        return ClassRef(gtin=gtin, serial=_decode(raw, serial, "serial"), company_prefix_length=n)
    if raw.startswith("urn:lotline:lot:"):
        sku, sep, lot = raw.removeprefix("urn:lotline:lot:").partition(":")
        if not sep:
            raise InvalidInput(f"{raw!r} must look like urn:lotline:lot:SKU:LOT", identifier=raw)
        return ClassRef(sku=_decode(raw, sku, "SKU"), lot=_decode(raw, lot, "lot"))
    if raw.startswith("urn:lotline:item:"):
        return ClassRef(sku=_decode(raw, raw.removeprefix("urn:lotline:item:"), "SKU"))
    if raw.startswith(("http://", "https://")):
        found = _digital_link(raw)
        if found and found[0] == "01":
            pairs = found[1]
            gtin = normalise_gtin(pairs["01"], raw=raw)
            dl_lot, dl_serial = pairs.get("10"), pairs.get("21")
            if dl_lot == "" or dl_serial == "":
                raise InvalidInput(f"Digital Link {raw!r} has an empty lot or serial", identifier=raw)
            return ClassRef(gtin=gtin, lot=dl_lot, serial=dl_serial)
    raise InvalidInput(
        f"{raw!r} names no trade item lotline understands (LGTIN/SGTIN URN, GS1 Digital Link /01/, lotline URN)",
        identifier=raw,
    )


def parse_place(raw: str) -> PlaceRef:
    """A readPoint/bizLocation/source/destination: SGLN / PGLN URN, Digital Link /414/ or /417/, lotline URN."""
    if not isinstance(raw, str) or not raw:
        raise InvalidInput(f"identifier {raw!r} must be a non-empty string", identifier=str(raw))
    return _parse_place(raw)


@lru_cache(maxsize=_PARSED)
def _parse_place(raw: str) -> PlaceRef:
    if raw.startswith("urn:epc:id:sgln:"):
        cp, ref, ext = _urn_parts(raw, raw.removeprefix("urn:epc:id:sgln:"), 3)
        gln, n = _gln_from_urn(raw, cp, ref)
        ext = unquote(ext)
        return PlaceRef("location", gln=gln, extension="" if ext == "0" else ext, company_prefix_length=n)
    if raw.startswith("urn:epc:id:pgln:"):
        cp, ref = _urn_parts(raw, raw.removeprefix("urn:epc:id:pgln:"), 2)
        gln, n = _gln_from_urn(raw, cp, ref)
        return PlaceRef("party", gln=gln, company_prefix_length=n)
    if raw.startswith("urn:lotline:loc:"):
        return PlaceRef("location", code=_decode(raw, raw.removeprefix("urn:lotline:loc:"), "location code"))
    for role in ("vendor", "customer"):
        prefix = f"urn:lotline:{role}:"
        if raw.startswith(prefix):
            return PlaceRef("party", code=_decode(raw, raw.removeprefix(prefix), f"{role} code"), role=role)
    if raw.startswith(("http://", "https://")):
        found = _digital_link(raw)
        if found and found[0] == "414":
            ext = found[1].get("254", "")
            return PlaceRef("location", gln=normalise_gln(found[1]["414"], raw=raw), extension="" if ext == "0" else ext)
        if found and found[0] == "417":
            return PlaceRef("party", gln=normalise_gln(found[1]["417"], raw=raw))
    raise InvalidInput(
        f"{raw!r} names no location or party lotline understands (SGLN/PGLN URN, Digital Link /414/ or /417/, "
        "lotline URN)",
        identifier=raw,
    )


# --- emitting -------------------------------------------------------------------------------------


def _enc(text: str) -> str:
    return quote(text, safe=_SAFE)


def _split_gtin(gtin: str, cp_len: int) -> tuple[str, str]:
    return gtin[1 : 1 + cp_len], gtin[0] + gtin[1 + cp_len : 13]


def lot_class(*, gtin: str | None, cp_len: int | None, sku: str, lot: str | None, digital_link: bool = False) -> str:
    """The epcClass of a lot (or of the whole item when ``lot`` is None).

    GTIN with a known company-prefix length: URN (or Digital Link when asked); GTIN without it: Digital
    Link (a URN cannot be written without knowing where the prefix ends); no GTIN: lotline's URN.
    """
    if gtin is None:
        return f"urn:lotline:lot:{_enc(sku)}:{_enc(lot)}" if lot is not None else f"urn:lotline:item:{_enc(sku)}"
    if digital_link or cp_len is None:
        return f"{DIGITAL_LINK_HOST}/01/{gtin}" + (f"/10/{_enc(lot)}" if lot is not None else "")
    cp, ir = _split_gtin(gtin, cp_len)
    return f"urn:epc:class:lgtin:{cp}.{ir}.{_enc(lot)}" if lot is not None else f"urn:epc:idpat:sgtin:{cp}.{ir}.*"


def location_id(*, gln: str | None, extension: str = "", cp_len: int | None, code: str, digital_link: bool = False) -> str:
    if gln is None:
        return f"urn:lotline:loc:{_enc(code)}"
    if digital_link or cp_len is None:
        return f"{DIGITAL_LINK_HOST}/414/{gln}" + (f"/254/{_enc(extension)}" if extension else "")
    return f"urn:epc:id:sgln:{gln[:cp_len]}.{gln[cp_len:12]}.{_enc(extension) if extension else '0'}"


def party_id(*, gln: str | None, cp_len: int | None, code: str, role: str, digital_link: bool = False) -> str:
    if gln is None:
        return f"urn:lotline:{role}:{_enc(code)}"
    if digital_link or cp_len is None:
        return f"{DIGITAL_LINK_HOST}/417/{gln}"
    return f"urn:epc:id:pgln:{gln[:cp_len]}.{gln[cp_len:12]}"
