-- Purpose: the FSMA 204 sortable spreadsheet rendered by the server: its rows in order, each as a
--          finished CSV line and XLSX <row> element (reports/fsma204_export.py frames them).
--          Long (~290 lines) because every text cell's rendering is spelled out inline.
-- Parameters: %(lot_ids)s uuid[] (lots whose receiving and transformation events are listed: a run's
--             impacted lots, any role, distinct), %(as_of)s timestamptz,
--             %(shipment_ids)s uuid[] (impacted shipments, distinct), %(shipped_lot_ids)s uuid[]
--             (target and downstream lots: what the shipments carried of them is listed),
--             %(untracked_case_id)s uuid (NULL, or the case whose untracked item targets' shipped
--             lines are listed too), %(csv)s boolean, %(xlsx)s boolean (which renderings to make).
-- Output: csv (the row's CSV line, CRLF-terminated; NULL unless csv), xlsx (its <row r="n"> element,
--         n from 2: row 1 is the header; NULL unless xlsx); in spreadsheet order.
-- Invariants: the rows and their order are those of the reference writers' rows() over fsma_events()
--   (tests/reports/fsma204_reference.py; the event statements tests/reports/sql/fsma_receiving,
--   fsma_transformation, recalls/sql/impacted_shipment_lines
--   and impacted_untracked_lines, followed here): sorted by (UTC time, Receiving < Transformation <
--   Shipping, lot code, input lot code, party) in code-point order, then as each list came (the
--   shipping lines by sales order and SKU), then by the rendered line (ties the old code left to
--   the planner). Cells render exactly as fsma204.to_csv and xlsx.write did: text through the
--   csv_safe rule (a leading = + - @ tab or CR gets a quote unless the whole text is a plain
--   decimal of ASCII digits), RFC 4180 quoting (a cell holding , " CR or LF is quoted, quotes
--   doubled), NULL as an empty cell; decimals without trailing zeros; in XLSX, text as escaped
--   inline strings without the characters XML forbids, NULL as <c/>, the event date as a serial day
--   in style 1, quantities as numbers. tests/reports/test_fsma204_export.py holds them equal.
-- Shape: the event statements' LATERAL … OFFSET 0 index probes from the given ids, with the small
--   tables (items, customers, recalled lots) joined once by hash after the probes, not inside each
--   (on small data the planner rebuilt a hash of the whole table per probe). Each text is rendered
--   once per lot, item, location, customer or shipment it belongs to (c_* CSV, x_* XLSX), so a row
--   only concatenates pieces; no per-row function call, no Python object per row or cell.
WITH lots_in AS MATERIALIZED (
    SELECT l.id, l.lot_code, l.item_id,
           CASE WHEN l.lot_code IS NULL THEN '' WHEN strpos(l.lot_code, ',') + strpos(l.lot_code, '"') + strpos(l.lot_code, E'\r') + strpos(l.lot_code, E'\n') > 0 THEN '"' || replace((CASE WHEN left(l.lot_code, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.lot_code !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.lot_code, '"', '""') || '"' ELSE (CASE WHEN left(l.lot_code, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.lot_code !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.lot_code END AS c_lot,
           CASE WHEN l.lot_code IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN l.lot_code ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(l.lot_code, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE l.lot_code END) || '</t></is></c>' END AS x_lot,
           CASE WHEN l.vendor_lot_code IS NULL THEN '' WHEN strpos(l.vendor_lot_code, ',') + strpos(l.vendor_lot_code, '"') + strpos(l.vendor_lot_code, E'\r') + strpos(l.vendor_lot_code, E'\n') > 0 THEN '"' || replace((CASE WHEN left(l.vendor_lot_code, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.vendor_lot_code !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.vendor_lot_code, '"', '""') || '"' ELSE (CASE WHEN left(l.vendor_lot_code, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.vendor_lot_code !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.vendor_lot_code END AS c_src,
           CASE WHEN l.vendor_lot_code IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN l.vendor_lot_code ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(l.vendor_lot_code, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE l.vendor_lot_code END) || '</t></is></c>' END AS x_src
      FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
     CROSS JOIN LATERAL (
            SELECT l.id, l.lot_code, l.vendor_lot_code, l.item_id FROM lots l
             WHERE l.id = x.lot_id AND l.received_at IS NOT NULL
            OFFSET 0
           ) AS l
), receipts AS MATERIALIZED (
    SELECT lots_in.id AS lot_id, f.movement_id
      FROM lots_in
     CROSS JOIN LATERAL (
            SELECT DISTINCT f.movement_id FROM lot_flow_totals f
             WHERE f.lot_id = lots_in.id AND f.movement_type = 'receipt'
            OFFSET 0
           ) AS f
), item AS MATERIALIZED (
    -- every item, rendered once (a catalog: 10^2 rows)
    SELECT i.id, i.sku, i.uom,
           CASE WHEN i.name IS NULL THEN '' WHEN strpos(i.name, ',') + strpos(i.name, '"') + strpos(i.name, E'\r') + strpos(i.name, E'\n') > 0 THEN '"' || replace((CASE WHEN left(i.name, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND i.name !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || i.name, '"', '""') || '"' ELSE (CASE WHEN left(i.name, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND i.name !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || i.name END AS c_name,
           CASE WHEN i.name IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN i.name ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(i.name, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE i.name END) || '</t></is></c>' END AS x_name,
           CASE WHEN i.sku IS NULL THEN '' WHEN strpos(i.sku, ',') + strpos(i.sku, '"') + strpos(i.sku, E'\r') + strpos(i.sku, E'\n') > 0 THEN '"' || replace((CASE WHEN left(i.sku, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND i.sku !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || i.sku, '"', '""') || '"' ELSE (CASE WHEN left(i.sku, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND i.sku !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || i.sku END AS c_sku,
           CASE WHEN i.sku IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN i.sku ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(i.sku, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE i.sku END) || '</t></is></c>' END AS x_sku,
           CASE WHEN i.uom IS NULL THEN '' WHEN strpos(i.uom, ',') + strpos(i.uom, '"') + strpos(i.uom, E'\r') + strpos(i.uom, E'\n') > 0 THEN '"' || replace((CASE WHEN left(i.uom, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND i.uom !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || i.uom, '"', '""') || '"' ELSE (CASE WHEN left(i.uom, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND i.uom !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || i.uom END AS c_uom,
           CASE WHEN i.uom IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN i.uom ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(i.uom, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE i.uom END) || '</t></is></c>' END AS x_uom,
           CASE WHEN i.name || ' (' || i.sku || ')' IS NULL THEN '' WHEN strpos(i.name || ' (' || i.sku || ')', ',') + strpos(i.name || ' (' || i.sku || ')', '"') + strpos(i.name || ' (' || i.sku || ')', E'\r') + strpos(i.name || ' (' || i.sku || ')', E'\n') > 0 THEN '"' || replace((CASE WHEN left(i.name || ' (' || i.sku || ')', 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND i.name || ' (' || i.sku || ')' !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || i.name || ' (' || i.sku || ')', '"', '""') || '"' ELSE (CASE WHEN left(i.name || ' (' || i.sku || ')', 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND i.name || ' (' || i.sku || ')' !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || i.name || ' (' || i.sku || ')' END AS c_described,
           CASE WHEN i.name || ' (' || i.sku || ')' IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN i.name || ' (' || i.sku || ')' ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(i.name || ' (' || i.sku || ')', '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE i.name || ' (' || i.sku || ')' END) || '</t></is></c>' END AS x_described
      FROM items i
), loc AS MATERIALIZED (
    -- every location as the spreadsheet names it: its code, or "code - name" when the name differs
    SELECT l.id, CASE WHEN l.text IS NULL THEN '' WHEN strpos(l.text, ',') + strpos(l.text, '"') + strpos(l.text, E'\r') + strpos(l.text, E'\n') > 0 THEN '"' || replace((CASE WHEN left(l.text, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.text !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.text, '"', '""') || '"' ELSE (CASE WHEN left(l.text, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.text !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.text END AS c_loc,
           CASE WHEN l.text IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN l.text ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(l.text, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE l.text END) || '</t></is></c>' END AS x_loc
      FROM (SELECT loc.id,
                   CASE WHEN loc.code = '' THEN ''
                        WHEN loc.name = '' OR loc.name = loc.code THEN loc.code
                        ELSE loc.code || ' - ' || loc.name END AS text
              FROM locations loc) AS l
), receiving AS (
    SELECT m.occurred_at AS t, 0 AS kind, lots_in.lot_code AS sort_lot, NULL::text AS sort_input,
           v.name AS sort_party, NULL::text AS order_number, NULL::text AS order_sku,
           'Receiving' AS c_event, '<c t="inlineStr"><is><t xml:space="preserve">Receiving</t></is></c>' AS x_event,
           lots_in.c_lot, lots_in.x_lot, lots_in.c_src, lots_in.x_src, i.c_name, i.x_name, i.c_sku, i.x_sku,
           k.quantity_delta AS quantity,
           CASE WHEN k.uom = i.uom THEN i.c_uom ELSE CASE WHEN k.uom IS NULL THEN '' WHEN strpos(k.uom, ',') + strpos(k.uom, '"') + strpos(k.uom, E'\r') + strpos(k.uom, E'\n') > 0 THEN '"' || replace((CASE WHEN left(k.uom, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND k.uom !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || k.uom, '"', '""') || '"' ELSE (CASE WHEN left(k.uom, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND k.uom !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || k.uom END END AS c_uom,
           CASE WHEN k.uom = i.uom THEN i.x_uom ELSE CASE WHEN k.uom IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN k.uom ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(k.uom, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE k.uom END) || '</t></is></c>' END END AS x_uom,
           loc.c_loc, loc.x_loc,
           CASE WHEN v.name IS NULL THEN '' WHEN strpos(v.name, ',') + strpos(v.name, '"') + strpos(v.name, E'\r') + strpos(v.name, E'\n') > 0 THEN '"' || replace((CASE WHEN left(v.name, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND v.name !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || v.name, '"', '""') || '"' ELSE (CASE WHEN left(v.name, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND v.name !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || v.name END AS c_party,
           CASE WHEN v.name IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN v.name ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(v.name, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE v.name END) || '</t></is></c>' END AS x_party,
           '' AS c_input, '<c/>' AS x_input, '' AS c_input_name, '<c/>' AS x_input_name,
           NULL::numeric AS input_quantity, '' AS c_input_uom, '<c/>' AS x_input_uom,
           'Receiving record' AS c_doc_type,
           '<c t="inlineStr"><is><t xml:space="preserve">Receiving record</t></is></c>' AS x_doc_type,
           CASE WHEN coalesce(m.external_ref, m.id::text) IS NULL THEN '' WHEN strpos(coalesce(m.external_ref, m.id::text), ',') + strpos(coalesce(m.external_ref, m.id::text), '"') + strpos(coalesce(m.external_ref, m.id::text), E'\r') + strpos(coalesce(m.external_ref, m.id::text), E'\n') > 0 THEN '"' || replace((CASE WHEN left(coalesce(m.external_ref, m.id::text), 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND coalesce(m.external_ref, m.id::text) !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || coalesce(m.external_ref, m.id::text), '"', '""') || '"' ELSE (CASE WHEN left(coalesce(m.external_ref, m.id::text), 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND coalesce(m.external_ref, m.id::text) !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || coalesce(m.external_ref, m.id::text) END AS c_doc,
           CASE WHEN coalesce(m.external_ref, m.id::text) IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN coalesce(m.external_ref, m.id::text) ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(coalesce(m.external_ref, m.id::text), '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE coalesce(m.external_ref, m.id::text) END) || '</t></is></c>' END AS x_doc
      FROM receipts r
      JOIN lots_in ON lots_in.id = r.lot_id
     CROSS JOIN LATERAL (
            SELECT m.id, m.occurred_at, m.external_ref, m.vendor_id
              FROM inventory_movements m
             WHERE m.id = r.movement_id
               AND m.occurred_at <= %(as_of)s::timestamptz
               AND m.status = 'posted'
               AND m.reverses_movement_id IS NULL
            OFFSET 0
           ) AS m
     CROSS JOIN LATERAL (
            -- the movement's lines, then their rows of this lot: probes by line, never all the rows
            -- of the lot (a raw lot has thousands; on larger data the planner hashed them all)
            SELECT iml.quantity_delta, iml.uom, ml.location_id
              FROM inventory_movement_lines ml
             CROSS JOIN LATERAL (
                    SELECT iml.quantity_delta, iml.uom FROM inventory_movement_lots iml
                     WHERE iml.inventory_movement_line_id = ml.id AND iml.lot_id = r.lot_id
                    OFFSET 0
                   ) AS iml
             WHERE ml.movement_id = m.id
            OFFSET 0
           ) AS k
      JOIN item i ON i.id = lots_in.item_id
      JOIN loc ON loc.id = k.location_id
      LEFT JOIN vendors v ON v.id = m.vendor_id
), edges AS MATERIALIZED (
    SELECT e.*
      FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
     CROSS JOIN LATERAL (
            SELECT e.work_order_execution_id, e.parent_lot_id, e.child_lot_id, e.consumed_quantity,
                   e.produced_quantity, e.occurred_at
              FROM lot_genealogy_edges e
             WHERE e.child_lot_id = x.lot_id AND e.occurred_at <= %(as_of)s::timestamptz
            OFFSET 0
           ) AS e
), outputs AS MATERIALIZED (
    SELECT o.work_order_execution_id, o.child_lot_id,
           CASE WHEN x.work_order_number IS NULL THEN '' WHEN strpos(x.work_order_number, ',') + strpos(x.work_order_number, '"') + strpos(x.work_order_number, E'\r') + strpos(x.work_order_number, E'\n') > 0 THEN '"' || replace((CASE WHEN left(x.work_order_number, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND x.work_order_number !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || x.work_order_number, '"', '""') || '"' ELSE (CASE WHEN left(x.work_order_number, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND x.work_order_number !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || x.work_order_number END AS c_doc,
           CASE WHEN x.work_order_number IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN x.work_order_number ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(x.work_order_number, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE x.work_order_number END) || '</t></is></c>' END AS x_doc,
           (SELECT ml.location_id
              FROM inventory_movement_lines ml
             CROSS JOIN LATERAL (
                    SELECT 1 FROM inventory_movement_lots iml
                     WHERE iml.inventory_movement_line_id = ml.id AND iml.lot_id = o.child_lot_id
                    OFFSET 0
                   ) AS iml
             WHERE ml.movement_id = x.produce_movement_id
             ORDER BY ml.line_no
             LIMIT 1) AS location_id
      FROM (SELECT DISTINCT work_order_execution_id, child_lot_id FROM edges) AS o
     CROSS JOIN LATERAL (
            SELECT x.produce_movement_id, wo.number AS work_order_number
              FROM work_order_executions x
              JOIN work_orders wo ON wo.id = x.work_order_id
             WHERE x.id = o.work_order_execution_id
            OFFSET 0
           ) AS x
), edge_lot AS MATERIALIZED (
    SELECT l.id, l.lot_code, l.vendor_lot_code, l.item_id
      FROM (SELECT child_lot_id AS id FROM edges UNION SELECT parent_lot_id FROM edges) AS k
     CROSS JOIN LATERAL (SELECT l.id, l.lot_code, l.vendor_lot_code, l.item_id FROM lots l WHERE l.id = k.id OFFSET 0) AS l
), lot AS MATERIALIZED (
    SELECT l.id, l.lot_code, l.item_id,
           CASE WHEN l.lot_code IS NULL THEN '' WHEN strpos(l.lot_code, ',') + strpos(l.lot_code, '"') + strpos(l.lot_code, E'\r') + strpos(l.lot_code, E'\n') > 0 THEN '"' || replace((CASE WHEN left(l.lot_code, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.lot_code !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.lot_code, '"', '""') || '"' ELSE (CASE WHEN left(l.lot_code, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.lot_code !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.lot_code END AS c_lot,
           CASE WHEN l.lot_code IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN l.lot_code ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(l.lot_code, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE l.lot_code END) || '</t></is></c>' END AS x_lot,
           CASE WHEN l.vendor_lot_code IS NULL THEN '' WHEN strpos(l.vendor_lot_code, ',') + strpos(l.vendor_lot_code, '"') + strpos(l.vendor_lot_code, E'\r') + strpos(l.vendor_lot_code, E'\n') > 0 THEN '"' || replace((CASE WHEN left(l.vendor_lot_code, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.vendor_lot_code !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.vendor_lot_code, '"', '""') || '"' ELSE (CASE WHEN left(l.vendor_lot_code, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.vendor_lot_code !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.vendor_lot_code END AS c_src,
           CASE WHEN l.vendor_lot_code IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN l.vendor_lot_code ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(l.vendor_lot_code, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE l.vendor_lot_code END) || '</t></is></c>' END AS x_src
      FROM edge_lot l
), transformation AS (
    SELECT e.occurred_at AS t, 1 AS kind, cl.lot_code AS sort_lot, pl.lot_code AS sort_input,
           NULL::text AS sort_party, NULL::text AS order_number, NULL::text AS order_sku,
           'Transformation' AS c_event,
           '<c t="inlineStr"><is><t xml:space="preserve">Transformation</t></is></c>' AS x_event,
           cl.c_lot, cl.x_lot, cl.c_src, cl.x_src, ci.c_name, ci.x_name, ci.c_sku, ci.x_sku,
           e.produced_quantity AS quantity, ci.c_uom, ci.x_uom,
           coalesce(loc.c_loc, '') AS c_loc,
           coalesce(loc.x_loc, '<c t="inlineStr"><is><t xml:space="preserve"></t></is></c>') AS x_loc,
           '' AS c_party, '<c/>' AS x_party,
           pl.c_lot AS c_input, pl.x_lot AS x_input, pi.c_described AS c_input_name, pi.x_described AS x_input_name,
           e.consumed_quantity AS input_quantity, pi.c_uom AS c_input_uom, pi.x_uom AS x_input_uom,
           'Work order' AS c_doc_type,
           '<c t="inlineStr"><is><t xml:space="preserve">Work order</t></is></c>' AS x_doc_type,
           o.c_doc, o.x_doc
      FROM edges e
      JOIN outputs o ON o.work_order_execution_id = e.work_order_execution_id AND o.child_lot_id = e.child_lot_id
      JOIN lot cl ON cl.id = e.child_lot_id
      JOIN lot pl ON pl.id = e.parent_lot_id
      JOIN item ci ON ci.id = cl.item_id
      JOIN item pi ON pi.id = pl.item_id
      LEFT JOIN loc ON loc.id = o.location_id
), shipment AS MATERIALIZED (
    SELECT s.id, s.customer_id, s.shipped_at, s.sales_order_number,
           CASE WHEN s.sales_order_number IS NULL THEN '' WHEN strpos(s.sales_order_number, ',') + strpos(s.sales_order_number, '"') + strpos(s.sales_order_number, E'\r') + strpos(s.sales_order_number, E'\n') > 0 THEN '"' || replace((CASE WHEN left(s.sales_order_number, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND s.sales_order_number !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || s.sales_order_number, '"', '""') || '"' ELSE (CASE WHEN left(s.sales_order_number, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND s.sales_order_number !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || s.sales_order_number END AS c_doc,
           CASE WHEN s.sales_order_number IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN s.sales_order_number ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(s.sales_order_number, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE s.sales_order_number END) || '</t></is></c>' END AS x_doc
      FROM unnest(%(shipment_ids)s::uuid[]) AS x(id)
     CROSS JOIN LATERAL (
            SELECT s.id, s.customer_id, s.shipped_at, so.number AS sales_order_number
              FROM sales_order_shipments s
              JOIN sales_orders so ON so.id = s.sales_order_id
             WHERE s.id = x.id
            OFFSET 0
           ) AS s
), customer AS MATERIALIZED (
    -- each impacted customer as the spreadsheet names it, "name (code)", rendered once
    SELECT c.id, c.name || ' (' || c.code || ')' AS party,
           CASE WHEN c.name || ' (' || c.code || ')' IS NULL THEN '' WHEN strpos(c.name || ' (' || c.code || ')', ',') + strpos(c.name || ' (' || c.code || ')', '"') + strpos(c.name || ' (' || c.code || ')', E'\r') + strpos(c.name || ' (' || c.code || ')', E'\n') > 0 THEN '"' || replace((CASE WHEN left(c.name || ' (' || c.code || ')', 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND c.name || ' (' || c.code || ')' !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || c.name || ' (' || c.code || ')', '"', '""') || '"' ELSE (CASE WHEN left(c.name || ' (' || c.code || ')', 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND c.name || ' (' || c.code || ')' !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || c.name || ' (' || c.code || ')' END AS c_party,
           CASE WHEN c.name || ' (' || c.code || ')' IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN c.name || ' (' || c.code || ')' ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(c.name || ' (' || c.code || ')', '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE c.name || ' (' || c.code || ')' END) || '</t></is></c>' END AS x_party
      FROM customers c
     WHERE c.id IN (SELECT customer_id FROM shipment)
), shipped_lot AS MATERIALIZED (
    SELECT l.id, l.lot_code,
           CASE WHEN l.lot_code IS NULL THEN '' WHEN strpos(l.lot_code, ',') + strpos(l.lot_code, '"') + strpos(l.lot_code, E'\r') + strpos(l.lot_code, E'\n') > 0 THEN '"' || replace((CASE WHEN left(l.lot_code, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.lot_code !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.lot_code, '"', '""') || '"' ELSE (CASE WHEN left(l.lot_code, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND l.lot_code !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || l.lot_code END AS c_lot,
           CASE WHEN l.lot_code IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN l.lot_code ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(l.lot_code, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE l.lot_code END) || '</t></is></c>' END AS x_lot
      FROM unnest(%(shipped_lot_ids)s::uuid[]) AS x(id)
     CROSS JOIN LATERAL (SELECT l.id, l.lot_code FROM lots l WHERE l.id = x.id OFFSET 0) AS l
), shipment_lines AS MATERIALIZED (
    SELECT k.shipment_id, k.item_id, k.location_id, k.lot_id, k.quantity, k.uom
      FROM shipment ship
     CROSS JOIN LATERAL (
            SELECT sll.sales_order_shipment_id AS shipment_id, ml.item_id, ml.location_id, iml.lot_id,
                   -iml.quantity_delta AS quantity, iml.uom
              FROM shipment_lot_links sll
              JOIN inventory_movement_lots iml ON iml.id = sll.inventory_movement_lot_id
              JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
             WHERE sll.sales_order_shipment_id = ship.id
            OFFSET 0
           ) AS k
), shipped AS (
    -- the recalled lots' rows of those lines, joined by hash (not once per shipment)
    SELECT k.shipment_id, k.item_id, k.location_id, shipped_lot.lot_code, shipped_lot.c_lot, shipped_lot.x_lot,
           k.quantity, k.uom
      FROM shipment_lines k
      JOIN shipped_lot ON shipped_lot.id = k.lot_id
     UNION ALL
    -- the case's untracked item targets (impacted_untracked_lines.sql); none when no case is given
    SELECT sl.sales_order_shipment_id, ml.item_id, ml.location_id, NULL::text, '', '<c/>', -ml.quantity_delta,
           ml.uom
      FROM recall_case_targets tg
      JOIN items i ON i.id = tg.item_id AND NOT i.lot_tracked
      JOIN inventory_movement_lines ml ON ml.item_id = tg.item_id AND ml.uom = coalesce(tg.uom, i.uom)
      JOIN sales_order_shipment_lines sl ON sl.inventory_movement_line_id = ml.id
     WHERE tg.recall_case_id = %(untracked_case_id)s::uuid
       AND tg.target_type = 'item'
       AND sl.sales_order_shipment_id IN (SELECT id FROM shipment)
), shipping AS (
    SELECT s.shipped_at AS t, 2 AS kind, x.lot_code AS sort_lot, NULL::text AS sort_input,
           c.party AS sort_party, s.sales_order_number AS order_number, i.sku AS order_sku,
           'Shipping' AS c_event, '<c t="inlineStr"><is><t xml:space="preserve">Shipping</t></is></c>' AS x_event,
           x.c_lot, x.x_lot, '' AS c_src, '<c/>' AS x_src, i.c_name, i.x_name, i.c_sku, i.x_sku,
           x.quantity,
           CASE WHEN x.uom = i.uom THEN i.c_uom ELSE CASE WHEN x.uom IS NULL THEN '' WHEN strpos(x.uom, ',') + strpos(x.uom, '"') + strpos(x.uom, E'\r') + strpos(x.uom, E'\n') > 0 THEN '"' || replace((CASE WHEN left(x.uom, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND x.uom !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || x.uom, '"', '""') || '"' ELSE (CASE WHEN left(x.uom, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND x.uom !~ '^-?[0-9]+(\.[0-9]+)?$' THEN '''' ELSE '' END) || x.uom END END AS c_uom,
           CASE WHEN x.uom = i.uom THEN i.x_uom ELSE CASE WHEN x.uom IS NULL THEN '<c/>' ELSE '<c t="inlineStr"><is><t xml:space="preserve">' || (CASE WHEN x.uom ~ '[&<>\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN replace(replace(replace(regexp_replace(x.uom, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE x.uom END) || '</t></is></c>' END END AS x_uom,
           loc.c_loc, loc.x_loc, c.c_party, c.x_party,
           '' AS c_input, '<c/>' AS x_input, '' AS c_input_name, '<c/>' AS x_input_name,
           NULL::numeric AS input_quantity, '' AS c_input_uom, '<c/>' AS x_input_uom,
           'Sales order' AS c_doc_type,
           '<c t="inlineStr"><is><t xml:space="preserve">Sales order</t></is></c>' AS x_doc_type,
           s.c_doc, s.x_doc
      FROM shipped x
      JOIN shipment s ON s.id = x.shipment_id
      JOIN customer c ON c.id = s.customer_id
      JOIN item i ON i.id = x.item_id
      JOIN loc ON loc.id = x.location_id
), events AS (
    SELECT * FROM receiving UNION ALL SELECT * FROM transformation UNION ALL SELECT * FROM shipping
), cells AS (
    -- what both renderings print of a row, computed once per row (OFFSET 0: not inlined into
    -- each rendering, where every use would compute it again)
    SELECT e.*, to_char(e.t AT TIME ZONE 'UTC', 'YYYY-MM-DD,HH24:MI:SS') AS when_text,
           ((e.t AT TIME ZONE 'UTC')::date - DATE '1899-12-30') AS serial_day,
           trim_scale(e.quantity)::text AS q_text, trim_scale(e.input_quantity)::text AS iq_text
      FROM events e
    OFFSET 0
)
-- one sort: the window's order is the output's (the same keys), so rows are numbered as they come
SELECT CASE WHEN %(csv)s::boolean THEN
           c_event || ',' || when_text || ',' || c_lot || ',' || c_src || ','
           || c_name || ',' || c_sku || ',' || coalesce(q_text, '') || ',' || c_uom || ','
           || c_loc || ',' || c_party || ',' || c_input || ',' || c_input_name || ','
           || coalesce(iq_text, '') || ',' || c_input_uom || ',' || c_doc_type || ','
           || c_doc || E'\r\n'
       END AS csv,
       CASE WHEN %(xlsx)s::boolean THEN
           '<row r="' || (row_number() OVER w + 1) || '">' || x_event || '<c s="1"><v>'
           || serial_day || '</v></c><c t="inlineStr"><is><t xml:space="preserve">'
           || right(when_text, 8) || '</t></is></c>' || x_lot || x_src || x_name || x_sku
           -- a decimal: a number cell (a non-finite one as text, as the old writer did)
           || CASE WHEN quantity IS NULL THEN '<c/>'
                   WHEN quantity IN ('NaN', 'Infinity', '-Infinity')
                   THEN '<c t="inlineStr"><is><t xml:space="preserve">' || quantity::text || '</t></is></c>'
                   ELSE '<c><v>' || q_text || '</v></c>' END
           || x_uom || x_loc || x_party || x_input || x_input_name
           || CASE WHEN input_quantity IS NULL THEN '<c/>'
                   WHEN input_quantity IN ('NaN', 'Infinity', '-Infinity')
                   THEN '<c t="inlineStr"><is><t xml:space="preserve">' || input_quantity::text || '</t></is></c>'
                   ELSE '<c><v>' || iq_text || '</v></c>' END
           || x_input_uom || x_doc_type || x_doc || '</row>'
       END AS xlsx
  FROM cells e
WINDOW w AS (ORDER BY e.t, e.kind, coalesce(e.sort_lot, '') COLLATE "C", coalesce(e.sort_input, '') COLLATE "C",
               coalesce(e.sort_party, '') COLLATE "C", e.order_number, e.order_sku,
               -- rows tied so far (the old code left their order to the planner): by content
               e.c_sku COLLATE "C", e.c_name COLLATE "C", e.c_src COLLATE "C", e.c_loc COLLATE "C", e.quantity,
               e.c_uom COLLATE "C", e.c_input_name COLLATE "C", e.input_quantity, e.c_doc COLLATE "C")
 ORDER BY e.t, e.kind, coalesce(e.sort_lot, '') COLLATE "C", coalesce(e.sort_input, '') COLLATE "C",
               coalesce(e.sort_party, '') COLLATE "C", e.order_number, e.order_sku,
               -- rows tied so far (the old code left their order to the planner): by content
               e.c_sku COLLATE "C", e.c_name COLLATE "C", e.c_src COLLATE "C", e.c_loc COLLATE "C", e.quantity,
               e.c_uom COLLATE "C", e.c_input_name COLLATE "C", e.input_quantity, e.c_doc COLLATE "C"
