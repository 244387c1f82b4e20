-- Purpose: per (item, location) series, the rounded additive components every inventory KPI is
--          built from (the finest level of kpi_rollup_inputs).
-- Parameters: window_seconds (numeric, we - ws in seconds).
-- Input: kpi_series, kpi_walk (only flagged series), kpi_lot_facts; items (uom, standard_cost).
-- Output: TEMP TABLE kpi_inventory_facts.
-- Invariants: every component is rounded to numeric(18,6) HERE, once; coarser levels only ever sum
--   these rounded figures, so sum(numerator) / sum(denominator) over any partition of the series
--   reproduces the coarser stored figure exactly. Value = quantity x items.standard_cost (the
--   current standard cost; there is no cost history). Negative on-hand is clamped to 0 in the
--   on-hand integral and reported as negative_on_hand_qty / negative_stock_days.
SELECT s.item_id,
       s.location_id,
       i.uom,
       round(c.qty_seconds / 86400, 6) AS on_hand_qty_days,
       round(c.qty_seconds * i.standard_cost / 86400, 6) AS on_hand_value_days,
       round(c.qty_seconds / %(window_seconds)s::numeric, 6) AS avg_qty,
       round(c.qty_seconds * i.standard_cost / %(window_seconds)s::numeric, 6) AS avg_value,
       round(s.outflow, 6) AS outflow_qty,
       round(s.outflow * i.standard_cost, 6) AS outflow_value,
       round(s.outflow * 31536000 / %(window_seconds)s::numeric, 6) AS outflow_qty_annual,
       round(s.outflow * i.standard_cost * 31536000 / %(window_seconds)s::numeric, 6) AS outflow_value_annual,
       round(s.stockout_days, 6) AS stockout_days,
       round(s.negative_days, 6) AS negative_days,
       round(coalesce(w.negative_qty_seconds, 0) / %(window_seconds)s::numeric, 6) AS negative_avg_qty,
       round(s.scrapped, 6) AS scrapped_qty,
       round(s.scrapped * i.standard_cost, 6) AS scrapped_value,
       round(coalesce(lf.expired_qty, 0), 6) AS expired_qty,
       round(coalesce(lf.expired_qty, 0) * i.standard_cost, 6) AS expired_value,
       round(coalesce(lf.held_qty, 0), 6) AS held_qty,
       round(coalesce(lf.held_qty, 0) * i.standard_cost, 6) AS held_value,
       round(greatest(s.closing, 0), 6) AS closing_qty,
       round(greatest(s.closing, 0) * i.standard_cost, 6) AS closing_value
  FROM kpi_series s
  JOIN items i ON i.id = s.item_id
  LEFT JOIN kpi_walk w ON w.item_id = s.item_id AND w.location_id = s.location_id
  LEFT JOIN kpi_lot_facts lf ON lf.item_id = s.item_id AND lf.location_id = s.location_id
 CROSS JOIN LATERAL (
       SELECT coalesce(w.clamped_qty_seconds, s.unclamped_qty_seconds) AS qty_seconds
       ) c
