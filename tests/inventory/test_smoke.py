from decimal import Decimal

from lotline.lots import service as lots_service
from tests.builders import (
    at,
    execute,
    make_customer,
    make_item,
    make_location,
    make_vendor,
    order,
    receive,
    ship,
)


def test_receipt_production_and_shipment_move_lot_stock(session):
    flour = make_item(session, "FLOUR")
    bread = make_item(session, "BREAD", uom="ea", shelf_life_days=5)
    wh = make_location(session, "WH1")
    make_vendor(session)
    shop = make_customer(session)
    lot = receive(session, flour, wh, "F-1", 100)
    execute(session, "WO-1", bread, [(flour, wh, 40, [("F-1", 40)])], [(wh, 80, "B-1")])
    order(session, "SO-1", shop, [(bread, 50, None)])
    ship(session, "SO-1", [(1, wh, 30, None)])
    assert lots_service.lot_quantity(session, lot.id) == Decimal(60)
    bread_lot = lots_service.find_lot(session, "B-1")
    assert lots_service.lot_quantity(session, bread_lot.id) == Decimal(50)
    assert bread_lot.expires_at == at(1 + 5)
