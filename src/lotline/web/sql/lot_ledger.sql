-- One page of a lot's ledger (newest first) with the running total after each line; the running
-- total is a window over all of the lot's rows, the page cut after it. idx_inventory_movement_lots_lot.
SELECT * FROM (
    SELECT mv.occurred_at, mv.movement_type, mv.id AS movement_id, mv.external_ref, mv.status AS movement_status,
           ln.line_no, loc.code AS location, ml.quantity_delta, ml.uom,
           sum(ml.quantity_delta) OVER (ORDER BY mv.occurred_at, mv.created_at, ln.line_no, ml.id) AS running_total,
           row_number() OVER (ORDER BY mv.occurred_at DESC, mv.created_at DESC, ln.line_no DESC, ml.id DESC) AS n
      FROM inventory_movement_lots ml
      JOIN inventory_movement_lines ln ON ln.id = ml.inventory_movement_line_id
      JOIN inventory_movements mv ON mv.id = ln.movement_id
      JOIN locations loc ON loc.id = ln.location_id
     WHERE ml.lot_id = %(lot_id)s::uuid
) x
 WHERE n > %(offset)s::int AND n <= %(offset)s::int + %(limit)s::int + 1
 ORDER BY n
