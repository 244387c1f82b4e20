-- From a shipment to the order lines it filled (recall of untracked items, reports).
CREATE INDEX idx_sales_order_shipment_lines_shipment ON sales_order_shipment_lines(sales_order_shipment_id);
