-- Purpose: the sales orders a bulk chunk's shipments create, open, with their lines, in one statement.
-- Parameters: ids uuid[], numbers text[], customers uuid[], ordered timestamptz[], notes text[] (one
--   element per order); line_ids uuid[], line_orders uuid[], line_nos int[], line_items uuid[],
--   line_uoms text[], line_quantities numeric[], line_due date[] (one element per line).
-- Output: none.
-- Invariants: the columns sales.create_order writes (promised_date and unit_price NULL); the
--   shipments close the orders afterwards (bulk_close_orders), as sales.ship does; one audit INSERT
--   entry per order and per line.
WITH orders AS (
    INSERT INTO sales_orders (id, number, customer_id, status, ordered_at, notes, updated_at)
    SELECT k.id, k.number, k.customer_id, 'open', k.ordered_at, k.notes, now()
      FROM unnest(%(ids)s::uuid[], %(numbers)s::text[], %(customers)s::uuid[], %(ordered)s::timestamptz[],
                  %(notes)s::text[]) AS k(id, number, customer_id, ordered_at, notes)
    RETURNING id
)
INSERT INTO sales_order_lines (id, sales_order_id, line_no, item_id, uom, quantity_ordered, due_date, promised_date,
                               unit_price)
SELECT k.id, o.id, k.line_no, k.item_id, k.uom, k.quantity, k.due_date, NULL, NULL
  FROM unnest(%(line_ids)s::uuid[], %(line_orders)s::uuid[], %(line_nos)s::int[], %(line_items)s::uuid[],
              %(line_uoms)s::text[], %(line_quantities)s::numeric[], %(line_due)s::date[])
       AS k(id, order_id, line_no, item_id, uom, quantity, due_date)
  JOIN orders o ON o.id = k.order_id
