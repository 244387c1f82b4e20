-- Purpose: 21 CFR 7.46 product lines: target and downstream lots of the computed run, amount
-- produced/received and in distribution, accounts reached. Parameters: %(case_id)s uuid.
    WITH run AS (SELECT id FROM recall_trace_runs WHERE recall_case_id = %(case_id)s::uuid AND status = 'computed'),
    lots_in AS (
        SELECT il.lot_id, min(il.role) AS role FROM recall_impacted_lots il JOIN run ON run.id = il.recall_trace_run_id
         WHERE il.role IN ('target', 'downstream_finished') GROUP BY il.lot_id
    ),
    made AS (
        SELECT iml.lot_id, sum(iml.quantity_delta) AS produced
          FROM inventory_movement_lots iml
          JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
         WHERE iml.lot_id IN (SELECT lot_id FROM lots_in)
           AND ml.movement_type IN ('receipt', 'production_produce') AND iml.quantity_delta > 0
         GROUP BY iml.lot_id
    ),
    shipped AS (
        SELECT iml.lot_id, sum(-iml.quantity_delta) AS distributed, count(DISTINCT ris.customer_id) AS accounts,
               min(s.shipped_at) AS first_shipped_at, max(s.shipped_at) AS last_shipped_at
          FROM recall_impacted_shipments ris JOIN run ON run.id = ris.recall_trace_run_id
          JOIN sales_order_shipments s ON s.id = ris.sales_order_shipment_id
          JOIN shipment_lot_links sll ON sll.sales_order_shipment_id = s.id
          JOIN inventory_movement_lots iml ON iml.id = sll.inventory_movement_lot_id
         WHERE iml.lot_id IN (SELECT lot_id FROM lots_in)
         GROUP BY iml.lot_id
    )
    SELECT i.sku, i.name AS product, i.uom, l.lot_code, l.vendor_lot_code, l.expires_at, lots_in.role,
           coalesce(made.produced, 0) AS produced, coalesce(shipped.distributed, 0) AS distributed,
           coalesce(shipped.accounts, 0) AS accounts, shipped.first_shipped_at, shipped.last_shipped_at
      FROM lots_in JOIN lots l ON l.id = lots_in.lot_id JOIN items i ON i.id = l.item_id
      LEFT JOIN made ON made.lot_id = l.id LEFT JOIN shipped ON shipped.lot_id = l.id
     ORDER BY lots_in.role DESC, i.sku, l.lot_code
    
