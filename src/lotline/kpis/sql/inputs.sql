-- Purpose: every KPI's numerator and denominator at every dimension level, as one row each.
-- Input: kpi_inventory_facts (per item x location), kpi_fill (fill rates, already rolled up).
-- Output: kpi_inputs(id, dimensions jsonb, metric, num, den, units, if_zero, if_infinite); id
--   (added by runs._body "inputs": the run id's first 24 characters + the row number) is the id of
--   both stored rows.
-- Dimension keys (one convention): {} overall, {"item_id"}, {"location_id"},
--   {"item_id","location_id"} for inventory KPIs; {}, {"item_id"}, {"customer_id"} for line fill
--   rates; {}, {"customer_id"} for the order fill rate. Values are UUID strings.
-- Roll-up rule: den IS NULL -> additive KPI, value = sum(num); otherwise value = sum(num)/sum(den)
--   rounded to 6 places, NULL when sum(den) = 0 (the reason is if_zero when sum(num) = 0, else
--   if_infinite). Sums of the per-series rounded components are exact.
WITH inv AS (
    SELECT CASE
             WHEN grouping(f.item_id) = 1 AND grouping(f.location_id) = 1 THEN '{}'::jsonb
             WHEN grouping(f.location_id) = 1 THEN jsonb_build_object('item_id', f.item_id)
             WHEN grouping(f.item_id) = 1 THEN jsonb_build_object('location_id', f.location_id)
             ELSE jsonb_build_object('item_id', f.item_id, 'location_id', f.location_id)
           END AS dimensions,
           CASE WHEN min(f.uom) = max(f.uom) THEN min(f.uom) ELSE 'mixed uom' END AS uom,
           count(*) AS series,
           coalesce(sum(f.on_hand_qty_days), 0) AS on_hand_qty_days,
           coalesce(sum(f.on_hand_value_days), 0) AS on_hand_value_days,
           coalesce(sum(f.avg_qty), 0) AS avg_qty,
           coalesce(sum(f.avg_value), 0) AS avg_value,
           coalesce(sum(f.outflow_qty), 0) AS outflow_qty,
           coalesce(sum(f.outflow_value), 0) AS outflow_value,
           coalesce(sum(f.outflow_qty_annual), 0) AS outflow_qty_annual,
           coalesce(sum(f.outflow_value_annual), 0) AS outflow_value_annual,
           coalesce(sum(f.stockout_days), 0) AS stockout_days,
           coalesce(sum(f.negative_days), 0) AS negative_days,
           coalesce(sum(f.negative_avg_qty), 0) AS negative_avg_qty,
           coalesce(sum(f.scrapped_qty), 0) AS scrapped_qty,
           coalesce(sum(f.scrapped_value), 0) AS scrapped_value,
           coalesce(sum(f.expired_qty), 0) AS expired_qty,
           coalesce(sum(f.expired_value), 0) AS expired_value,
           coalesce(sum(f.held_qty), 0) AS held_qty,
           coalesce(sum(f.held_value), 0) AS held_value,
           coalesce(sum(f.closing_qty), 0) AS closing_qty,
           coalesce(sum(f.closing_value), 0) AS closing_value
      FROM kpi_inventory_facts f
     GROUP BY GROUPING SETS ((), (f.item_id), (f.location_id), (f.item_id, f.location_id))
)
SELECT a.dimensions, v.metric, v.num, v.den, v.units, v.if_zero, v.if_infinite
  FROM inv a
 CROSS JOIN LATERAL (VALUES
    ('avg_on_hand_qty', a.avg_qty, NULL::numeric, a.uom, NULL, NULL),
    ('avg_on_hand_value', a.avg_value, NULL, 'cost', NULL, NULL),
    ('turns_qty', a.outflow_qty, a.avg_qty, 'turns per window',
        'no stock and no outflow', 'outflow with no average stock'),
    ('turns_qty_annualised', a.outflow_qty_annual, a.avg_qty, 'turns per year',
        'no stock and no outflow', 'outflow with no average stock'),
    ('turns_value', a.outflow_value, a.avg_value, 'turns per window',
        'no stock value and no outflow value', 'outflow with no average stock value'),
    ('turns_value_annualised', a.outflow_value_annual, a.avg_value, 'turns per year',
        'no stock value and no outflow value', 'outflow with no average stock value'),
    ('days_of_inventory_qty', a.on_hand_qty_days, a.outflow_qty, 'days',
        'no stock and no usage', 'stock but no usage'),
    ('days_of_inventory_value', a.on_hand_value_days, a.outflow_value, 'days',
        'no stock value and no usage value', 'stock value but no usage value'),
    ('stockout_days', a.stockout_days, a.series, 'days per series', 'no stock series', 'no stock series'),
    ('negative_stock_days', a.negative_days, a.series, 'days per series', 'no stock series', 'no stock series'),
    ('negative_on_hand_qty', a.negative_avg_qty, NULL, a.uom, NULL, NULL),
    ('scrapped_qty', a.scrapped_qty, NULL, a.uom, NULL, NULL),
    ('scrapped_value', a.scrapped_value, NULL, 'cost', NULL, NULL),
    ('expired_qty', a.expired_qty, NULL, a.uom, NULL, NULL),
    ('expired_value', a.expired_value, NULL, 'cost', NULL, NULL),
    ('held_share_qty', a.held_qty, a.closing_qty, 'ratio', 'no stock at window end', 'no stock at window end'),
    ('held_share_value', a.held_value, a.closing_value, 'ratio',
        'no stock value at window end', 'no stock value at window end')
 ) AS v(metric, num, den, units, if_zero, if_infinite)
UNION ALL
SELECT f.dimensions, f.metric, f.num, f.den, 'ratio',
       CASE WHEN f.metric = 'order_fill_rate' THEN 'no orders with lines due in window'
            ELSE 'no order lines due in window' END,
       CASE WHEN f.metric = 'order_fill_rate' THEN 'no orders with lines due in window'
            ELSE 'no order lines due in window' END
  FROM kpi_fill f
