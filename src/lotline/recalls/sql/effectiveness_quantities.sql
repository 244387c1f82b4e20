-- Purpose: quantity impacted vs recovered for a recall case (21 CFR 7.53 status report), per uom.
-- Parameters: %(case_id)s uuid; of the case's computed run: %(lot_ids)s uuid[] (target and
--             downstream lots), %(shipment_ids)s uuid[] (impacted shipments), %(as_of)s timestamptz;
--             %(since)s timestamptz (initiated_at; returns are counted from then on).
-- Output: uom, impacted, quarantined, scrapped, returned, recovered.
-- Definitions, per impacted lot (role target or downstream_finished):
--   impacted    = on hand at the run's as_of + shipped to customers up to as_of;
--   quarantined = quantity moved into quarantine by the case's completed quarantine_lot actions;
--   scrapped    = quantity written off by the case's completed scrap_lot actions outside quarantine
--                 locations (scrapping quarantined stock recovers nothing new);
--   returned    = quantity returned by customers since initiation;
--   recovered   = least(impacted, quarantined + scrapped + returned) — capped per lot so stock that
--                 is returned and then quarantined is not counted twice beyond what was impacted.
-- Untracked item targets count shipped lines as impacted and returns of the item as returned.
-- Shape: a lot's impacted and returned quantities come from the derived lot_flow_totals (migration
--   0030: per lot, location, type and direction, returns per movement, kept equal to the ledger by
--   triggers) when none of its ledger rows is later than as_of, as the trace's stock.sql reads them:
--   a handful of rows per lot instead of one per ledger row (a raw lot consumed thousands of times:
--   ~46k ledger rows and line probes for a much-used lot's recall at scale 100). A return key holds
--   one movement, so its last_occurred_at is that return's time. A lot with a later row is read
--   from its ledger rows, as before. What the case's completed actions moved is read from the
--   actions' movements (lines by movement, then this lot's rows), once per (lot, movement, type)
--   as the ledger-row EXISTS counted it. A lot's unit is its item's (a movement line's unit is its
--   item's: inventory.service), as its rows carry it. The result is the ledger-row statement's
--   (tests/recalls/sql/effectiveness_quantities_rows.sql; tests/recalls/test_effectiveness_totals.py).
WITH lots_r AS MATERIALIZED (
    SELECT x.lot_id FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
), totals AS MATERIALIZED (
    SELECT lots_r.lot_id, t.movement_type, t.quantity, t.last_occurred_at
      FROM lots_r
     CROSS JOIN LATERAL (
            SELECT f.movement_type, f.quantity, f.last_occurred_at
              FROM lot_flow_totals f
             WHERE f.lot_id = lots_r.lot_id
            OFFSET 0
           ) AS t
), recent AS MATERIALIZED (
    -- lots with a ledger row later than as_of: their totals hold rows that must not be counted
    SELECT t.lot_id FROM totals t GROUP BY t.lot_id HAVING max(t.last_occurred_at) > %(as_of)s::timestamptz
), acts AS MATERIALIZED (
    -- one per (lot, movement, type), as the EXISTS over ledger rows counts a row once
    SELECT DISTINCT a.lot_id, a.action_type, a.inventory_movement_id
      FROM recall_actions a
     WHERE a.recall_case_id = %(case_id)s::uuid AND a.status = 'completed'
       AND a.inventory_movement_id IS NOT NULL
       AND a.action_type IN ('quarantine_lot', 'scrap_lot')
), act_rows AS (
    -- what the actions' movements did to their lot, for the lots read from their totals
    SELECT acts.lot_id,
           sum(CASE WHEN acts.action_type = 'quarantine_lot' AND iml.quantity_delta > 0
                    THEN iml.quantity_delta ELSE 0 END) AS quarantined,
           sum(CASE WHEN acts.action_type = 'scrap_lot' AND loc.kind <> 'quarantine'
                    THEN -iml.quantity_delta ELSE 0 END) AS scrapped
      FROM acts
      JOIN lots_r ON lots_r.lot_id = acts.lot_id
      JOIN inventory_movement_lines ml ON ml.movement_id = acts.inventory_movement_id
      JOIN locations loc ON loc.id = ml.location_id
      JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = ml.id AND iml.lot_id = acts.lot_id
     WHERE acts.lot_id NOT IN (SELECT r.lot_id FROM recent r)
     GROUP BY acts.lot_id
), from_totals AS (
    SELECT t.lot_id,
           -- on hand at as_of + shipped up to as_of = every non-shipment delta up to as_of
           sum(CASE WHEN t.movement_type <> 'shipment' THEN t.quantity ELSE 0 END) AS on_hand_plus_shipped,
           sum(CASE WHEN t.movement_type = 'return' AND t.last_occurred_at >= %(since)s::timestamptz
                    THEN t.quantity ELSE 0 END) AS returned
      FROM totals t
     WHERE t.lot_id NOT IN (SELECT r.lot_id FROM recent r)
     GROUP BY t.lot_id
), moves AS (
    -- the recent lots' ledger rows. Lot rows by lot, then their line by primary key. The lateral
    -- OFFSET 0 keeps these index lookups: the planner overestimates rows per lot (sampled
    -- n_distinct of a 10^7-row table) and would otherwise hash-join a sequential scan of every movement.
    SELECT iml.lot_id, iml.uom, iml.quantity_delta, mv.movement_id, mv.movement_type, mv.occurred_at,
           mv.location_kind
      FROM recent
      JOIN inventory_movement_lots iml ON iml.lot_id = recent.lot_id
      CROSS JOIN LATERAL (
            -- the line carries its movement's type and time (migration 0019): no movement lookup
            SELECT ml.movement_id, ml.movement_type, ml.occurred_at, loc.kind AS location_kind
              FROM inventory_movement_lines ml
              JOIN locations loc ON loc.id = ml.location_id
             WHERE ml.id = iml.inventory_movement_line_id
            OFFSET 0
           ) AS mv
), per_lot AS (
    SELECT f.lot_id, i.uom, f.on_hand_plus_shipped, coalesce(a.quarantined, 0) AS quarantined,
           coalesce(a.scrapped, 0) AS scrapped, f.returned
      FROM from_totals f
      JOIN lots l ON l.id = f.lot_id
      JOIN items i ON i.id = l.item_id
      LEFT JOIN act_rows a ON a.lot_id = f.lot_id
     UNION ALL
    SELECT mv.lot_id, min(mv.uom) AS uom,  -- a lot's rows all carry its item's uom
           sum(CASE WHEN mv.occurred_at <= %(as_of)s::timestamptz AND mv.movement_type <> 'shipment'
                    THEN mv.quantity_delta ELSE 0 END) AS on_hand_plus_shipped,
           sum(CASE WHEN EXISTS (SELECT 1 FROM acts WHERE acts.action_type = 'quarantine_lot'
                                    AND acts.lot_id = mv.lot_id AND acts.inventory_movement_id = mv.movement_id)
                     AND mv.quantity_delta > 0 THEN mv.quantity_delta ELSE 0 END) AS quarantined,
           sum(CASE WHEN EXISTS (SELECT 1 FROM acts WHERE acts.action_type = 'scrap_lot'
                                    AND acts.lot_id = mv.lot_id AND acts.inventory_movement_id = mv.movement_id)
                     AND mv.location_kind <> 'quarantine' THEN -mv.quantity_delta ELSE 0 END) AS scrapped,
           sum(CASE WHEN mv.movement_type = 'return' AND mv.occurred_at >= %(since)s::timestamptz
                    THEN mv.quantity_delta ELSE 0 END) AS returned
      FROM moves mv
     GROUP BY mv.lot_id
), lot_rows AS (
    SELECT p.uom, greatest(p.on_hand_plus_shipped, 0) AS impacted, p.quarantined, p.scrapped, p.returned
      FROM per_lot p
), untracked AS (
    SELECT coalesce(t.uom, i.uom) AS uom, t.item_id
      FROM recall_case_targets t JOIN items i ON i.id = t.item_id AND NOT i.lot_tracked
     WHERE t.recall_case_id = %(case_id)s::uuid AND t.target_type = 'item'
), untracked_rows AS (
    SELECT u.uom,
           coalesce((SELECT sum(-ml.quantity_delta)
                       FROM unnest(%(shipment_ids)s::uuid[]) AS ris(id)
                       JOIN sales_order_shipment_lines sl ON sl.sales_order_shipment_id = ris.id
                       JOIN inventory_movement_lines ml ON ml.id = sl.inventory_movement_line_id
                      WHERE ml.item_id = u.item_id AND ml.uom = u.uom), 0) AS impacted,
           0::numeric AS quarantined, 0::numeric AS scrapped,
           coalesce((SELECT sum(ml.quantity_delta)
                       FROM inventory_movement_lines ml
                       JOIN inventory_movements m ON m.id = ml.movement_id
                      WHERE ml.item_id = u.item_id AND ml.uom = u.uom AND m.movement_type = 'return'
                        AND m.occurred_at >= %(since)s::timestamptz), 0) AS returned
      FROM untracked u
)
SELECT r.uom, sum(r.impacted) AS impacted, sum(r.quarantined) AS quarantined, sum(r.scrapped) AS scrapped,
       sum(r.returned) AS returned,
       sum(least(r.impacted, r.quarantined + r.scrapped + r.returned)) AS recovered
  FROM (SELECT * FROM lot_rows UNION ALL SELECT * FROM untracked_rows) AS r
 GROUP BY r.uom
 ORDER BY r.uom
