from lotline.trace import service as trace
from lotline.lots import service as lots_service
from tests.builders import *

def test_smoke(session):
    flour = make_item(session, "FLOUR")
    bread = make_item(session, "BREAD", uom="ea", shelf_life_days=5)
    wh = make_location(session, "WH1")
    make_vendor(session)
    shop = make_customer(session)
    lot = receive(session, flour, wh, "F-1", 100)
    execute(session, "WO-1", bread, [(flour, wh, 40, [("F-1", 40)])], [(wh, 80, "B-1")])
    order(session, "SO-1", shop, [(bread, 50, None)])
    ship(session, "SO-1", [(1, wh, 30, None)])
    r = trace.trace(session, [lot.id])
    import json; print(json.dumps(r.to_json(), indent=1))
    assert 0
