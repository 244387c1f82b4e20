-- Derived on-hand per (item, location, lot), maintained by the posting service in the same
-- transaction as the movement. It is what stock-decreasing postings lock and check
-- (INSERT ... ON CONFLICT DO UPDATE takes the row lock), and what on-hand queries read.
-- lot_id is NULL for items that are not lot-tracked; NULLS NOT DISTINCT (PostgreSQL 15) keeps one row.
CREATE TABLE inventory_balances (
    item_id uuid NOT NULL REFERENCES items(id),
    location_id uuid NOT NULL REFERENCES locations(id),
    lot_id uuid REFERENCES lots(id),
    quantity numeric(18,6) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT inventory_balances_key UNIQUE NULLS NOT DISTINCT (item_id, location_id, lot_id),
    -- Last line of defence: the service refuses first, with a message naming line, lot and item.
    CONSTRAINT inventory_balances_lot_nonnegative CHECK (lot_id IS NULL OR quantity >= 0)
);
CREATE INDEX idx_inventory_balances_lot ON inventory_balances(lot_id) WHERE lot_id IS NOT NULL;
CREATE INDEX idx_inventory_balances_location ON inventory_balances(location_id);

-- Derived lot-to-lot genealogy edges, one per (execution, consumed lot, produced lot), written by the
-- work order execution service from the same rows as work_order_lot_links. The trace engine walks
-- this narrow table instead of joining links -> movement lots -> links per hop.
CREATE TABLE lot_genealogy_edges (
    work_order_execution_id uuid NOT NULL REFERENCES work_order_executions(id) ON DELETE CASCADE,
    parent_lot_id uuid NOT NULL REFERENCES lots(id),
    child_lot_id uuid NOT NULL REFERENCES lots(id),
    consumed_quantity numeric(18,6) NOT NULL,
    produced_quantity numeric(18,6) NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (work_order_execution_id, parent_lot_id, child_lot_id)
);
CREATE INDEX idx_lot_genealogy_edges_parent ON lot_genealogy_edges(parent_lot_id, child_lot_id, occurred_at);
CREATE INDEX idx_lot_genealogy_edges_child ON lot_genealogy_edges(child_lot_id, parent_lot_id, occurred_at);
