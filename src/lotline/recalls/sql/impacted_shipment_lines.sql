-- Purpose: what each impacted customer received of the recalled goods, per trace run: one row per
--          shipped lot row of a target or downstream lot on an impacted shipment, plus one per shipped
--          line of an untracked item target (lot columns NULL).
-- Parameters: %(run_id)s uuid.
-- Output: customer_id, customer_code, customer_name, contact_email, shipment_id, sales_order_number,
--         shipped_at, item_id, sku, item_name, location_code, location_name, lot_id, lot_code,
--         quantity (positive), uom.
-- Invariant: upstream components' own shipments are never listed (only target/downstream lots).
WITH run AS (
    SELECT id, recall_case_id FROM recall_trace_runs WHERE id = %(run_id)s::uuid
), shipped AS (
    SELECT ris.customer_id, s.id AS shipment_id, s.sales_order_id, s.shipped_at, ml.item_id,
           ml.location_id, iml.lot_id, -iml.quantity_delta AS quantity, iml.uom
      FROM run
      JOIN recall_impacted_shipments ris ON ris.recall_trace_run_id = run.id
      JOIN sales_order_shipments s ON s.id = ris.sales_order_shipment_id
      JOIN shipment_lot_links sll ON sll.sales_order_shipment_id = s.id
      JOIN inventory_movement_lots iml ON iml.id = sll.inventory_movement_lot_id
      JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
     WHERE EXISTS (SELECT 1 FROM recall_impacted_lots ril
                    WHERE ril.recall_trace_run_id = run.id AND ril.lot_id = iml.lot_id
                      AND ril.role IN ('target', 'downstream_finished'))
    UNION ALL
    SELECT ris.customer_id, s.id, s.sales_order_id, s.shipped_at, ml.item_id, ml.location_id,
           NULL::uuid, -ml.quantity_delta, ml.uom
      FROM run
      JOIN recall_impacted_shipments ris ON ris.recall_trace_run_id = run.id
      JOIN sales_order_shipments s ON s.id = ris.sales_order_shipment_id
      JOIN sales_order_shipment_lines sl ON sl.sales_order_shipment_id = s.id
      JOIN inventory_movement_lines ml ON ml.id = sl.inventory_movement_line_id
      JOIN items i ON i.id = ml.item_id AND NOT i.lot_tracked
     WHERE EXISTS (SELECT 1 FROM recall_case_targets t
                    WHERE t.recall_case_id = run.recall_case_id AND t.target_type = 'item'
                      AND t.item_id = ml.item_id AND coalesce(t.uom, i.uom) = ml.uom)
)
SELECT x.customer_id, c.code AS customer_code, c.name AS customer_name, c.contact_email,
       x.shipment_id, so.number AS sales_order_number, x.shipped_at, x.item_id, i.sku,
       i.name AS item_name, loc.code AS location_code, loc.name AS location_name, x.lot_id, l.lot_code,
       x.quantity, x.uom
  FROM shipped x
  JOIN customers c ON c.id = x.customer_id
  JOIN sales_orders so ON so.id = x.sales_order_id
  JOIN items i ON i.id = x.item_id
  JOIN locations loc ON loc.id = x.location_id
  LEFT JOIN lots l ON l.id = x.lot_id
 ORDER BY c.code, x.shipped_at, so.number, i.sku, l.lot_code
