-- Purpose: lots received from a vendor matching an inbound recall notice.
-- Parameters: %(vendor_id)s uuid, %(vendor_lots)s text[], %(item_ids)s uuid[] (empty = any),
-- %(since)s, %(until)s timestamptz (NULL = open). Output: id, lot_code, vendor_lot_code, sku, received_at.
    SELECT DISTINCT l.id, l.lot_code, l.vendor_lot_code, i.sku, l.received_at
      FROM inventory_movements m
      JOIN inventory_movement_lines ml ON ml.movement_id = m.id
      JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = ml.id
      JOIN lots l ON l.id = iml.lot_id
      JOIN items i ON i.id = l.item_id
     WHERE m.movement_type = 'receipt' AND m.reverses_movement_id IS NULL
       AND m.vendor_id = %(vendor_id)s::uuid
       AND (cardinality(%(vendor_lots)s::text[]) = 0 OR l.vendor_lot_code = ANY(%(vendor_lots)s::text[]))
       AND (cardinality(%(item_ids)s::uuid[]) = 0 OR l.item_id = ANY(%(item_ids)s::uuid[]))
       AND (%(since)s::timestamptz IS NULL OR m.occurred_at >= %(since)s::timestamptz)
       AND (%(until)s::timestamptz IS NULL OR m.occurred_at < %(until)s::timestamptz)
     ORDER BY i.sku, l.lot_code
    
