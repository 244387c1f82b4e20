-- Purpose: re-derive the sales_order_line_fills rows of the given orders' lines from their definition
--          (view sales_order_line_fills_source, migration 0020) after an order was created or shipped.
-- Parameters: order_ids (uuid[]).
-- Invariants: the rows equal the view's rows for the orders (every column), in the same transaction
--   as the change.
--   Whole orders, because a line's row carries its order's figures. The filter is on the view's
--   window partition key, so it is pushed down to index lookups per order, not a scan.
INSERT INTO sales_order_line_fills
SELECT *
  FROM sales_order_line_fills_source
 WHERE sales_order_id = ANY(%(order_ids)s::uuid[])
    ON CONFLICT (sales_order_line_id) DO UPDATE
   SET sales_order_id = EXCLUDED.sales_order_id,
       customer_id = EXCLUDED.customer_id,
       item_id = EXCLUDED.item_id,
       due_date = EXCLUDED.due_date,
       quantity_ordered = EXCLUDED.quantity_ordered,
       filled_quantity = EXCLUDED.filled_quantity,
       recorded_at = EXCLUDED.recorded_at,
       last_shipment_recorded_at = EXCLUDED.last_shipment_recorded_at,
       order_representative = EXCLUDED.order_representative,
       order_first_due = EXCLUDED.order_first_due,
       order_last_due = EXCLUDED.order_last_due,
       order_complete = EXCLUDED.order_complete,
       order_changed_at = EXCLUDED.order_changed_at
