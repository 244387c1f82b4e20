-- The ledger of some lots at some locations after one instant, summarised per pair: what a
-- back-dated decrease of those lots must leave room for.
-- The ledger is read per instant (as the generator's check 04 replays it): all movements at one
-- occurred_at count together, so only instants strictly after the posting's are "later".
-- Parameters: lots uuid[], locations uuid[] (pairs, same length), occurred_at timestamptz.
-- Output (one row per pair with later entries): lot_id, location_id,
--   total      sum of the later entries,
--   min_prefix the lowest running sum of the later entries, instant by instant,
--   lowest_at  the (earliest) instant at which that lowest running sum is reached,
--   latest     the latest ledger time of the pair.
-- Reads the lot's rows through idx_inventory_movement_lots_lot and their lines by primary key:
-- only the lots concerned, never the item's or the location's whole ledger.
WITH k AS (
    SELECT DISTINCT k.lot_id, k.location_id
      FROM unnest(%(lots)s::uuid[], %(locations)s::uuid[]) AS k(lot_id, location_id)
), later AS (
    SELECT k.lot_id, k.location_id, ml.occurred_at, sum(iml.quantity_delta) AS q
      FROM k
      JOIN inventory_movement_lots iml ON iml.lot_id = k.lot_id
      JOIN inventory_movement_lines ml
        ON ml.id = iml.inventory_movement_line_id AND ml.location_id = k.location_id
     WHERE ml.occurred_at > %(occurred_at)s::timestamptz
     GROUP BY k.lot_id, k.location_id, ml.occurred_at
), running AS (
    SELECT lot_id, location_id, occurred_at,
           sum(q) OVER (PARTITION BY lot_id, location_id ORDER BY occurred_at
                        ROWS UNBOUNDED PRECEDING) AS prefix,
           sum(q) OVER (PARTITION BY lot_id, location_id) AS total,
           max(occurred_at) OVER (PARTITION BY lot_id, location_id) AS latest
      FROM later
)
SELECT DISTINCT ON (lot_id, location_id)
       lot_id, location_id, total, prefix AS min_prefix, occurred_at AS lowest_at, latest
  FROM running
 ORDER BY lot_id, location_id, prefix, occurred_at
