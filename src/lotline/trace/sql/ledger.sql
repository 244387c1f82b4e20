-- Per lot and location, the ledger as of a time, split by what the quantities did:
-- the source of both the as-of on-hand and the mass balance.
--
-- Parameters: lot_ids uuid[], as_of timestamptz
-- Output: lot_id, location_id, location_code, location_kind, received, produced, returned,
--         adjusted_in, consumed, shipped, scrapped, adjusted_out, transferred_in, transferred_out,
--         on_hand (the signed sum of every lot row) — outflows as positive numbers.
-- Invariants: every lot row counts exactly once; transfers are kept apart (they net to zero per
--   lot across locations when the ledger is sound).
SELECT iml.lot_id, ml.location_id, loc.code AS location_code, loc.kind AS location_kind,
       coalesce(sum(iml.quantity_delta) FILTER (WHERE m.movement_type = 'receipt'), 0) AS received,
       coalesce(sum(iml.quantity_delta) FILTER (WHERE m.movement_type = 'production_produce'), 0) AS produced,
       coalesce(sum(iml.quantity_delta) FILTER (WHERE m.movement_type = 'return'), 0) AS returned,
       coalesce(sum(iml.quantity_delta) FILTER (WHERE m.movement_type = 'adjustment' AND iml.quantity_delta > 0), 0) AS adjusted_in,
       coalesce(-sum(iml.quantity_delta) FILTER (WHERE m.movement_type = 'production_consume'), 0) AS consumed,
       coalesce(-sum(iml.quantity_delta) FILTER (WHERE m.movement_type = 'shipment'), 0) AS shipped,
       coalesce(-sum(iml.quantity_delta) FILTER (WHERE m.movement_type = 'scrap'), 0) AS scrapped,
       coalesce(-sum(iml.quantity_delta) FILTER (WHERE m.movement_type = 'adjustment' AND iml.quantity_delta < 0), 0) AS adjusted_out,
       coalesce(sum(iml.quantity_delta) FILTER (WHERE m.movement_type = 'transfer' AND iml.quantity_delta > 0), 0) AS transferred_in,
       coalesce(-sum(iml.quantity_delta) FILTER (WHERE m.movement_type = 'transfer' AND iml.quantity_delta < 0), 0) AS transferred_out,
       sum(iml.quantity_delta) AS on_hand
  FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
  JOIN inventory_movement_lots iml ON iml.lot_id = x.lot_id
  JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
  JOIN inventory_movements m ON m.id = ml.movement_id
  JOIN locations loc ON loc.id = ml.location_id
 WHERE m.occurred_at <= %(as_of)s::timestamptz
 GROUP BY iml.lot_id, ml.location_id, loc.code, loc.kind
