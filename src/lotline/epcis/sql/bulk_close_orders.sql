-- Purpose: close the sales orders a bulk chunk created and shipped in full, as sales.ship closes an
--   order whose lines are all shipped (an UPDATE after the INSERT, so the audit trail has both).
-- Parameters: ids uuid[].
-- Output: none.
UPDATE sales_orders SET status = 'closed', updated_at = now() WHERE id = ANY (%(ids)s::uuid[])
