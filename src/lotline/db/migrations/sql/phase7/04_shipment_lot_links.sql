-- Phase 7 migration 4: shipment_lot_links
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE shipment_lot_links (
    id uuid PRIMARY KEY,
    sales_order_shipment_id uuid NOT NULL REFERENCES sales_order_shipments(id) ON DELETE CASCADE,
    inventory_movement_lot_id uuid NOT NULL REFERENCES inventory_movement_lots(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_shipment_lot_links_shipment ON shipment_lot_links(sales_order_shipment_id);
CREATE INDEX idx_shipment_lot_links_lot ON shipment_lot_links(inventory_movement_lot_id);
