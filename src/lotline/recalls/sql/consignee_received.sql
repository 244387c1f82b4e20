-- Purpose: what one customer received of the lots impacted by the case's computed run.
-- Parameters: %(case_id)s uuid, %(customer_id)s uuid. Output: sku, product, lot_code, quantity, uom.
            SELECT i.sku, i.name AS product, l.lot_code, sum(-iml.quantity_delta) AS quantity, iml.uom,
                   min(s.shipped_at) AS first_shipped_at
              FROM recall_trace_runs r
              JOIN recall_impacted_shipments ris ON ris.recall_trace_run_id = r.id
              JOIN sales_order_shipments s ON s.id = ris.sales_order_shipment_id
              JOIN shipment_lot_links sll ON sll.sales_order_shipment_id = s.id
              JOIN inventory_movement_lots iml ON iml.id = sll.inventory_movement_lot_id
              JOIN lots l ON l.id = iml.lot_id
              JOIN items i ON i.id = l.item_id
             WHERE r.recall_case_id = %(case_id)s::uuid AND r.status = 'computed'
               AND ris.customer_id = %(customer_id)s::uuid
               AND EXISTS (SELECT 1 FROM recall_impacted_lots il
                            WHERE il.recall_trace_run_id = r.id AND il.lot_id = l.id)
             GROUP BY i.sku, i.name, l.lot_code, iml.uom
             ORDER BY i.sku, l.lot_code
            
