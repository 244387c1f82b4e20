"""GS1 identifiers: URN and Digital Link forms, check digits, company-prefix lengths, exact lot text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lotline.epcis import identifiers as ids
from lotline.epcis import units
from lotline.errors import InvalidInput


def test_an_lgtin_urn_gives_the_gtin_with_its_check_digit_and_the_prefix_length():
    ref = ids.parse_class("urn:epc:class:lgtin:4012345.011111.4444")
    assert (ref.gtin, ref.lot, ref.company_prefix_length) == ("04012345111118", "4444", 7)


def test_urn_and_digital_link_of_one_lot_name_the_same_gtin_and_lot():
    urn = ids.parse_class("urn:epc:class:lgtin:0614141.007346.0042%2FA")
    dl = ids.parse_class("https://example.com/any/path/01/00614141073467/10/0042%2FA?linkType=all")
    assert (urn.gtin, urn.lot) == (dl.gtin, dl.lot) == ("00614141073467", "0042/A")


@pytest.mark.parametrize("prefix_length", range(6, 13))
def test_every_company_prefix_length_round_trips_through_the_urn(prefix_length):
    gtin = ids.normalise_gtin("10614141000415".zfill(14)[:13] + ids.check_digit("10614141000415"[:13]))
    urn = ids.lot_class(gtin=gtin, cp_len=prefix_length, sku="X", lot="L-01")
    back = ids.parse_class(urn)
    assert (back.gtin, back.lot, back.company_prefix_length) == (gtin, "L-01", prefix_length)


def test_lot_codes_keep_case_leading_zeros_and_odd_characters():
    for lot in ("007abc", "Lot 7/B&C?", "ÄÖ-1", "a%b"):
        for dl in (False, True):
            text = ids.lot_class(gtin="00614141073467", cp_len=7, sku="X", lot=lot, digital_link=dl)
            assert ids.parse_class(text).lot == lot


def test_a_wrong_check_digit_is_refused_naming_the_identifier():
    with pytest.raises(InvalidInput, match=r"wrong check digit \(expected 7\)"):
        ids.parse_class("https://id.gs1.org/01/00614141073468/10/A")


def test_a_urn_whose_prefix_and_reference_do_not_make_13_digits_is_refused():
    with pytest.raises(InvalidInput, match="must make 13 digits"):
        ids.parse_class("urn:epc:class:lgtin:4012345.01111.4444")


def test_gtin_8_12_and_13_are_padded_to_14_digits():
    assert ids.normalise_gtin("96385074") == "00000096385074"
    assert ids.normalise_gtin("614141000036") == "00614141000036"
    with pytest.raises(InvalidInput, match="8, 12, 13 or 14 digits"):
        ids.normalise_gtin("12345")


def test_sgln_pgln_and_digital_link_locations_and_parties():
    loc = ids.parse_place("urn:epc:id:sgln:0614141.07346.1234")
    assert (loc.kind, loc.gln, loc.extension, loc.company_prefix_length) == ("location", "0614141073467", "1234", 7)
    assert ids.parse_place("urn:epc:id:sgln:0614141.07346.0").extension == ""
    assert ids.parse_place("https://id.gs1.org/414/0614141073467/254/1234") == ids.PlaceRef(
        "location", gln="0614141073467", extension="1234"
    )
    party = ids.parse_place("urn:epc:id:pgln:0614141.07346")
    assert (party.kind, party.gln) == ("party", "0614141073467")
    assert ids.location_id(gln="0614141073467", extension="1234", cp_len=7, code="X") == "urn:epc:id:sgln:0614141.07346.1234"
    assert ids.party_id(gln="0614141073467", cp_len=None, code="X", role="vendor") == "https://id.gs1.org/417/0614141073467"


def test_records_without_gs1_keys_get_lotline_urns_that_parse_back():
    assert ids.parse_class(ids.lot_class(gtin=None, cp_len=None, sku="FLOUR T55", lot="F:1")) == ids.ClassRef(
        sku="FLOUR T55", lot="F:1"
    )
    assert ids.parse_place(ids.party_id(gln=None, cp_len=None, code="MILL", role="vendor")).role == "vendor"


def test_an_identifier_lotline_does_not_know_is_refused_with_what_it_accepts():
    with pytest.raises(InvalidInput, match="names no trade item"):
        ids.parse_class("urn:epc:id:giai:952005385.w2")


def test_rec20_units_convert_to_the_stocking_unit_or_are_refused_clearly():
    assert units.to_stocking(Decimal(2500), "GRM", item_uom="kg", sku="FLOUR", where="e") == Decimal("2.5")
    assert units.to_stocking(Decimal(3), "H87", item_uom="ea", sku="BREAD", where="e") == 3
    assert units.to_stocking(Decimal(3), None, item_uom="crate", sku="BREAD", where="e") == 3
    with pytest.raises(InvalidInput, match=r"unit LTR \(volume\) cannot be converted to item FLOUR's stocking unit 'kg' \(mass\)"):
        units.to_stocking(Decimal(1), "LTR", item_uom="kg", sku="FLOUR", where="e")
    with pytest.raises(InvalidInput, match="unknown UN/ECE Rec 20 unit 'ZZZ'"):
        units.to_stocking(Decimal(1), "ZZZ", item_uom="kg", sku="FLOUR", where="e")
    with pytest.raises(InvalidInput, match="more than 6 decimal places"):
        units.to_stocking(Decimal("0.0001"), "MGM", item_uom="kg", sku="FLOUR", where="e")


def test_an_identifier_parsed_again_gives_the_same_answer_and_a_refused_one_is_refused_again():
    # parse_class / parse_place remember recent answers (a capture names each lot in several events)
    for raw in ("urn:epc:class:lgtin:4012345.011111.4444", "https://id.gs1.org/01/04012345111118/10/L%2F1"):
        assert ids.parse_class(raw) == ids.parse_class(raw) == ids._parse_class.__wrapped__(raw)
    for raw in ("urn:epc:id:sgln:4012345.00001.0", "urn:lotline:customer:C001"):
        assert ids.parse_place(raw) == ids.parse_place(raw) == ids._parse_place.__wrapped__(raw)
    for _ in range(2):
        with pytest.raises(InvalidInput, match="wrong check digit"):
            ids.parse_class("https://id.gs1.org/01/04012345111119/10/L1")
        with pytest.raises(InvalidInput, match="non-empty string"):
            ids.parse_place(None)  # type: ignore[arg-type]
