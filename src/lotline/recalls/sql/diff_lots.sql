-- Purpose: impacted lots that differ between two trace runs of a case.
-- Parameters: %(old)s uuid, %(new)s uuid (run ids).
-- Output: change ('added' = impacted in new only, 'removed' = in old only), lot_id, lot_code, sku, role.
WITH o AS (SELECT lot_id, role FROM recall_impacted_lots WHERE recall_trace_run_id = %(old)s::uuid),
     n AS (SELECT lot_id, role FROM recall_impacted_lots WHERE recall_trace_run_id = %(new)s::uuid),
     d AS (
        SELECT 'added' AS change, lot_id, role FROM (SELECT lot_id, role FROM n EXCEPT SELECT lot_id, role FROM o) a
        UNION ALL
        SELECT 'removed', lot_id, role FROM (SELECT lot_id, role FROM o EXCEPT SELECT lot_id, role FROM n) r
     )
SELECT d.change, d.lot_id, l.lot_code, i.sku, d.role
  FROM d JOIN lots l ON l.id = d.lot_id JOIN items i ON i.id = l.item_id
 ORDER BY d.change, i.sku, l.lot_code, d.role
