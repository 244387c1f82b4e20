-- Invariant: every lot row of a shipment movement is linked once to the shipment posted with that
-- movement, no link points elsewhere; each shipment movement line fills one order line of the same
-- order and item with the same quantity; shipment and movement agree on customer and time.
-- Output: violations bigint, sample text
WITH expected AS (
    SELECT s.id AS shipment_id, iml.id AS iml_id
      FROM sales_order_shipments s
      JOIN inventory_movement_lines ml ON ml.movement_id = s.inventory_movement_id
      JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = ml.id
), actual AS (
    SELECT sales_order_shipment_id AS shipment_id, inventory_movement_lot_id AS iml_id, count(*) AS n
      FROM shipment_lot_links GROUP BY 1, 2
), bad AS (
    SELECT coalesce(e.iml_id, a.iml_id) AS id
      FROM expected e FULL JOIN actual a USING (shipment_id, iml_id)
     WHERE e.iml_id IS NULL OR a.iml_id IS NULL OR a.n <> 1
    UNION ALL
    SELECT ml.id
      FROM sales_order_shipments s
      JOIN inventory_movements m ON m.id = s.inventory_movement_id
      JOIN inventory_movement_lines ml ON ml.movement_id = m.id
      LEFT JOIN sales_order_shipment_lines sl ON sl.inventory_movement_line_id = ml.id
                                              AND sl.sales_order_shipment_id = s.id
      LEFT JOIN sales_order_lines ol ON ol.id = sl.sales_order_line_id
     WHERE sl.id IS NULL OR ol.sales_order_id <> s.sales_order_id OR ol.item_id <> ml.item_id
        OR sl.quantity <> -ml.quantity_delta OR m.movement_type <> 'shipment'
        OR m.customer_id <> s.customer_id OR m.occurred_at <> s.shipped_at
    UNION ALL
    SELECT m.id
      FROM inventory_movements m
     WHERE m.movement_type = 'shipment'
       AND NOT EXISTS (SELECT 1 FROM sales_order_shipments s WHERE s.inventory_movement_id = m.id)
)
SELECT count(*), string_agg(id::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT id, row_number() OVER () AS rn FROM bad) b
