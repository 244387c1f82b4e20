-- The ledger of some lots at some locations after one point in ledger order, summarised: what a
-- back-dated decrease of those lots must leave room for.
-- Ledger order is (occurred_at, movement id), the order the generator's checker replays it in.
-- Parameters: :lots uuid[], :locations uuid[] (pairs, same length), :occurred_at timestamptz,
--             :movement_id uuid (the posting's own id: entries after (occurred_at, movement_id)).
-- Output (one row per pair that has later entries): lot_id, location_id,
--   total      sum of the later entries,
--   min_prefix the lowest running sum of the later entries, in ledger order,
--   lowest_at  the time at which that lowest running sum is reached (earliest such),
--   latest     the latest ledger time of the pair.
-- Reads the lot's rows through idx_inventory_movement_lots_lot and their lines by primary key:
-- only the lots concerned, never the item's or the location's whole ledger.
WITH k AS (
    SELECT DISTINCT k.lot_id, k.location_id
      FROM unnest(CAST(:lots AS uuid[]), CAST(:locations AS uuid[])) AS k(lot_id, location_id)
), later AS (
    SELECT k.lot_id, k.location_id, ml.occurred_at, ml.movement_id, sum(iml.quantity_delta) AS q
      FROM k
      JOIN inventory_movement_lots iml ON iml.lot_id = k.lot_id
      JOIN inventory_movement_lines ml
        ON ml.id = iml.inventory_movement_line_id AND ml.location_id = k.location_id
     WHERE (ml.occurred_at, ml.movement_id) > (CAST(:occurred_at AS timestamptz), CAST(:movement_id AS uuid))
     GROUP BY k.lot_id, k.location_id, ml.occurred_at, ml.movement_id
), running AS (
    SELECT lot_id, location_id, occurred_at,
           sum(q) OVER (PARTITION BY lot_id, location_id ORDER BY occurred_at, movement_id
                        ROWS UNBOUNDED PRECEDING) AS prefix,
           sum(q) OVER (PARTITION BY lot_id, location_id) AS total,
           max(occurred_at) OVER (PARTITION BY lot_id, location_id) AS latest
      FROM later
)
SELECT DISTINCT ON (lot_id, location_id)
       lot_id, location_id, total, prefix AS min_prefix, occurred_at AS lowest_at, latest
  FROM running
 ORDER BY lot_id, location_id, prefix, occurred_at
