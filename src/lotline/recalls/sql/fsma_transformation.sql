-- Purpose: FSMA 204 transformation events of a trace run: one row per (execution, output lot, input
--          lot) for every impacted output lot, up to the run's as_of.
-- Parameters: %(run_id)s uuid.
-- Output: event_at, lot_code, vendor_lot_code, sku, item_name, quantity (output produced), uom,
--         location_code, location_name, reference_number (work order number), input_lot_code,
--         input_sku, input_item_name, input_quantity, input_uom.
-- Invariant: reads the derived lot_genealogy_edges (same rows as work_order_lot_links).
WITH run AS (
    SELECT id, as_of FROM recall_trace_runs WHERE id = %(run_id)s::uuid
), lots_out AS (
    SELECT DISTINCT ril.lot_id FROM run JOIN recall_impacted_lots ril ON ril.recall_trace_run_id = run.id
)
SELECT e.occurred_at AS event_at, cl.lot_code, cl.vendor_lot_code, ci.sku, ci.name AS item_name,
       e.produced_quantity AS quantity, ci.uom, loc.code AS location_code, loc.name AS location_name,
       wo.number AS reference_number, pl.lot_code AS input_lot_code, pi.sku AS input_sku,
       pi.name AS input_item_name, e.consumed_quantity AS input_quantity, pi.uom AS input_uom
  FROM lots_out
  JOIN lot_genealogy_edges e ON e.child_lot_id = lots_out.lot_id
  JOIN run ON e.occurred_at <= run.as_of
  JOIN work_order_executions x ON x.id = e.work_order_execution_id
  JOIN work_orders wo ON wo.id = x.work_order_id
  JOIN lots cl ON cl.id = e.child_lot_id
  JOIN items ci ON ci.id = cl.item_id
  JOIN lots pl ON pl.id = e.parent_lot_id
  JOIN items pi ON pi.id = pl.item_id
  LEFT JOIN LATERAL (
        SELECT ml.location_id
          FROM inventory_movement_lines ml
          JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = ml.id
         WHERE ml.movement_id = x.produce_movement_id AND iml.lot_id = e.child_lot_id
         ORDER BY ml.line_no
         LIMIT 1
       ) out_loc ON true
  LEFT JOIN locations loc ON loc.id = out_loc.location_id
 ORDER BY e.occurred_at, cl.lot_code, pl.lot_code
