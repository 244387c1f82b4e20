-- The stocked balance rows of an (item, location): what a FEFO posting locks and picks from
-- (inventory/balances.py lock_stock). A busy item at a busy place accumulates a row per lot that
-- ever passed through — 1,251 rows for 6 with stock at scale 1000 — and the unique key index
-- made the lookup read them all, so a shipment's cost grew with the database. Partial, so it
-- holds only the few stocked rows; the untracked row (lot_id NULL, may be negative) is included.
CREATE INDEX idx_inventory_balances_stocked ON inventory_balances (item_id, location_id, lot_id)
    WHERE quantity <> 0 OR lot_id IS NULL;
