-- Purpose: re-derive the sales_order_line_fills rows of the given order lines from their definition
--          (view sales_order_line_fills_source, migration 0020) after the lines were created or shipped.
-- Parameters: :line_ids (uuid[]).
-- Invariants: the row equals the view's row for the line, in the same transaction as the change
--   (the view's filter on its grouping key is pushed down: an index lookup per line, not a scan).
INSERT INTO sales_order_line_fills
SELECT *
  FROM sales_order_line_fills_source
 WHERE sales_order_line_id = ANY(CAST(:line_ids AS uuid[]))
    ON CONFLICT (sales_order_line_id) DO UPDATE
   SET filled_quantity = EXCLUDED.filled_quantity,
       last_shipment_recorded_at = EXCLUDED.last_shipment_recorded_at
