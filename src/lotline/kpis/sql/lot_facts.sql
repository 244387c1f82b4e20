-- Purpose: lot-based stock facts per (item, location): expiry write-offs in the window and stock
--          held (lot quarantined or blocked) at the window end.
-- Parameters: ws, we, as_of (timestamptz).
-- Output: TEMP TABLE kpi_lot_facts(item_id, location_id, expired_qty, held_qty).
-- Invariants:
--   * expired = quantity scrapped in the window from lots whose expires_at had passed at the time
--     of the scrap (movement type + lots.expires_at; a part of scrapped_qty; reversals net out),
--     read from kpi_scrap_lots; as_of is exact (each row keeps its own recording time).
--     Expiry itself moves no stock: expired stock counts in on-hand until it is scrapped.
--   * held: on-hand at we of lots whose status is quarantine or blocked. Lot status has no history
--     in the schema: it is the status when the run is computed (a published run freezes it).
WITH expired AS (
    -- the derived scrap lot rows (migration 0034: the scrap lines' lot rows with the line's item,
    -- location, time and recording time and the lot's expires_at, kept equal to the ledger by
    -- triggers, check_17): tens of thousands of rows instead of index probes through scrap
    -- movements -> lines -> lot rows -> lots. Same rows as that join: lines carry their movement's
    -- occurred_at, movement_type and created_at (check_12).
    SELECT s.item_id, s.location_id, -sum(s.quantity) AS expired_qty
      FROM kpi_scrap_lots s
     WHERE s.occurred_at >= %(ws)s::timestamptz
       AND s.occurred_at < %(we)s::timestamptz
       AND s.recorded_at <= %(as_of)s::timestamptz
       AND s.expires_at <= s.occurred_at
     GROUP BY s.item_id, s.location_id
), held AS (
    SELECT l.item_id, l.location_id, sum(ml.quantity_delta) AS held_qty
      FROM lots lo
      JOIN inventory_movement_lots ml ON ml.lot_id = lo.id
      JOIN inventory_movement_lines l ON l.id = ml.inventory_movement_line_id
     WHERE lo.status IN ('quarantine', 'blocked')
       AND l.created_at <= %(as_of)s::timestamptz
       AND l.occurred_at < %(we)s::timestamptz
     GROUP BY l.item_id, l.location_id
)
SELECT coalesce(e.item_id, h.item_id) AS item_id,
       coalesce(e.location_id, h.location_id) AS location_id,
       coalesce(e.expired_qty, 0) AS expired_qty,
       greatest(coalesce(h.held_qty, 0), 0) AS held_qty
  FROM expired e
  FULL JOIN held h ON h.item_id = e.item_id AND h.location_id = e.location_id
