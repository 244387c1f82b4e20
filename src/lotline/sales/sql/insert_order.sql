-- Purpose: write one new sales order with all its lines in one statement (references were
--   resolved before; the caller made the ids so that nothing needs to come back).
-- Parameters: id uuid, number text, customer_id uuid, ordered_at timestamptz, notes text;
--   lines, one element per line: line_ids uuid[], line_nos int[], items uuid[], uoms text[],
--   quantities numeric[], due_dates date[], promised_dates date[], unit_prices numeric[].
-- Output: none.
-- Invariants: the order is open; a number already used fails on the unique constraint (the
--   boundary's DuplicateKey); audit triggers fire per statement on both tables as for any insert;
--   the caller re-derives the lines' fill state after it (refresh_line_fills.sql).
WITH o AS (
    INSERT INTO sales_orders (id, number, customer_id, status, ordered_at, notes, updated_at)
    VALUES (%(id)s::uuid, %(number)s::text, %(customer_id)s::uuid, 'open', %(ordered_at)s::timestamptz,
            %(notes)s::text, now())
    RETURNING id
)
INSERT INTO sales_order_lines
       (id, sales_order_id, line_no, item_id, uom, quantity_ordered, due_date, promised_date, unit_price)
SELECT k.id, o.id, k.line_no, k.item_id, k.uom, k.quantity, k.due_date, k.promised_date, k.unit_price
  FROM o,
       unnest(%(line_ids)s::uuid[], %(line_nos)s::int[], %(items)s::uuid[], %(uoms)s::text[],
              %(quantities)s::numeric[], %(due_dates)s::date[], %(promised_dates)s::date[],
              %(unit_prices)s::numeric[])
       AS k(id, line_no, item_id, uom, quantity, due_date, promised_date, unit_price)
