-- Purpose: plan the standard recall action set from a case's computed trace run, in one statement.
-- Parameters: %(case_id)s uuid, %(run_id)s uuid (for the notes); of that run: %(lot_ids)s uuid[]
--             (target and downstream lots), %(shipment_ids)s uuid[] (impacted shipments).
-- Output: none (rowcount = actions planned).
-- Rules: every target or downstream lot that is not consumed gets quarantine_lot when it has stock
--   outside quarantine/scrap locations, else block_lot unless it is already blocked or quarantined;
--   if any shipment is impacted, the case gets one customer_notify (no shipment: running it drafts a
--   notice for every impacted customer — one notice per customer, however many shipments). An
--   action of the same type for the same lot (or the case-level notify) that is planned, in progress
--   or completed is not planned again.
-- Invariant: the caller holds the case row FOR UPDATE, so two plan-alls cannot both insert.
WITH lots_r AS (
    SELECT x.lot_id FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
), free_stock AS (
    SELECT b.lot_id, sum(b.quantity) AS quantity
      FROM lots_r
      JOIN inventory_balances b ON b.lot_id = lots_r.lot_id AND b.quantity > 0
      JOIN locations loc ON loc.id = b.location_id AND loc.kind NOT IN ('quarantine', 'scrap')
     GROUP BY b.lot_id
), wanted AS (
    SELECT CASE WHEN fs.quantity > 0 THEN 'quarantine_lot' ELSE 'block_lot' END AS action_type,
           l.id AS lot_id, NULL::uuid AS shipment_id, i.sku, l.lot_code
      FROM lots_r
      JOIN lots l ON l.id = lots_r.lot_id
      JOIN items i ON i.id = l.item_id
      LEFT JOIN free_stock fs ON fs.lot_id = l.id
     WHERE l.status <> 'consumed'
       AND (fs.quantity > 0 OR l.status NOT IN ('blocked', 'quarantine'))
    UNION ALL
    SELECT 'customer_notify', NULL::uuid, NULL::uuid, NULL::text, NULL::text
     WHERE cardinality(%(shipment_ids)s::uuid[]) > 0
), existing AS (
    SELECT a.action_type,
           coalesce(a.lot_id, '00000000-0000-0000-0000-000000000000'::uuid) AS lot_key,
           coalesce(a.sales_order_shipment_id, '00000000-0000-0000-0000-000000000000'::uuid) AS shipment_key
      FROM recall_actions a
     WHERE a.recall_case_id = %(case_id)s::uuid
       AND a.status IN ('planned', 'in_progress', 'completed')
)
INSERT INTO recall_actions (id, recall_case_id, action_type, status, lot_id, sales_order_shipment_id,
                            notes, created_at, updated_at)
SELECT gen_random_uuid(), %(case_id)s::uuid, w.action_type, 'planned', w.lot_id, w.shipment_id,
       'planned from trace run ' || %(run_id)s::text, clock_timestamp(), now()
  FROM wanted w
 WHERE NOT EXISTS (
        SELECT 1 FROM existing e
         WHERE e.action_type = w.action_type
           AND e.lot_key = coalesce(w.lot_id, '00000000-0000-0000-0000-000000000000'::uuid)
           AND e.shipment_key = coalesce(w.shipment_id, '00000000-0000-0000-0000-000000000000'::uuid))
 ORDER BY w.action_type DESC, w.sku, w.lot_code, w.shipment_id
