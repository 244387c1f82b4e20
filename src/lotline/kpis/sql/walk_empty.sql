-- Purpose: the empty kpi_walk table, when no series may go below zero and walk.sql is skipped.
-- Parameters: none.
-- Output: TEMP TABLE kpi_walk with walk.sql's columns and no rows.
CREATE TEMP TABLE kpi_walk (item_id uuid, location_id uuid, clamped_qty_seconds numeric,
                            negative_qty_seconds numeric) ON COMMIT DROP
