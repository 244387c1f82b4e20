-- Purpose: the shipped lines of a case's untracked item targets among a trace run's impacted
--          shipments (same columns as impacted_shipment_lines.sql, lot columns NULL). Only run when
--          the case has such targets.
-- Parameters: %(case_id)s uuid, %(shipment_ids)s uuid[] (the run's impacted shipments, distinct).
-- Output: as impacted_shipment_lines.sql.
-- Shape: driven from the targeted items' movement lines (index on item), kept when they belong to
--        an impacted shipment; there is no index from a shipment to its shipment lines.
WITH ship AS MATERIALIZED (
    SELECT x.id FROM unnest(%(shipment_ids)s::uuid[]) AS x(id)
), lines AS (
    SELECT sl.sales_order_shipment_id AS shipment_id, ml.item_id, ml.location_id, -ml.quantity_delta AS quantity,
           ml.uom
      FROM recall_case_targets t
      JOIN items i ON i.id = t.item_id AND NOT i.lot_tracked
      JOIN inventory_movement_lines ml ON ml.item_id = t.item_id AND ml.uom = coalesce(t.uom, i.uom)
      JOIN sales_order_shipment_lines sl ON sl.inventory_movement_line_id = ml.id
      JOIN ship ON ship.id = sl.sales_order_shipment_id
     WHERE t.recall_case_id = %(case_id)s::uuid
       AND t.target_type = 'item'
)
SELECT s.customer_id, c.code AS customer_code, c.name AS customer_name, c.contact_email,
       so.number AS sales_order_number, s.shipped_at, i.sku, i.name AS item_name,
       loc.code AS location_code, loc.name AS location_name, NULL::text AS lot_code, x.quantity, x.uom
  FROM lines x
  JOIN sales_order_shipments s ON s.id = x.shipment_id
  JOIN sales_orders so ON so.id = s.sales_order_id
  JOIN customers c ON c.id = s.customer_id
  JOIN items i ON i.id = x.item_id
  JOIN locations loc ON loc.id = x.location_id
 ORDER BY c.code, s.shipped_at, so.number, i.sku
