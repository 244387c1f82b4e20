-- Purpose: whether any series may dip below zero (then walk.sql runs; otherwise walk_empty.sql).
-- Parameters: none. Input: kpi_series.
-- Output: one boolean.
SELECT EXISTS (SELECT 1 FROM kpi_series WHERE may_go_negative)
