-- Purpose: whether any of the bulk chunk's external references, order numbers, work order numbers
--   or new lot codes is already taken; if so the chunk goes the per-event way (bulk.py).
-- Parameters: refs text[] (external references of movements, executions, shipments), orders text[]
--   (sales order numbers), work_orders text[] (work order numbers), items uuid[] + codes text[]
--   (new lots, same length).
-- Output: one boolean.
-- Invariants: conservative — a reference is looked up in all three tables whatever its kind.
SELECT EXISTS (SELECT 1 FROM inventory_movements WHERE external_ref = ANY (%(refs)s::text[]))
    OR EXISTS (SELECT 1 FROM work_order_executions WHERE external_ref = ANY (%(refs)s::text[]))
    OR EXISTS (SELECT 1 FROM sales_order_shipments WHERE external_ref = ANY (%(refs)s::text[]))
    OR EXISTS (SELECT 1 FROM sales_orders WHERE number = ANY (%(orders)s::text[]))
    OR EXISTS (SELECT 1 FROM work_orders WHERE number = ANY (%(work_orders)s::text[]))
    OR EXISTS (SELECT 1
                 FROM unnest(%(items)s::uuid[], %(codes)s::text[]) AS k(item_id, lot_code)
                 JOIN lots l ON l.item_id = k.item_id AND l.lot_code = k.lot_code)
