-- lotline ledger core (Phase 0-6 of the spec's world): the tables Phase 7 references.
-- Ours to design; later changes go in new revisions.

CREATE TABLE items (
    id uuid PRIMARY KEY,
    sku text NOT NULL UNIQUE CHECK (length(sku) BETWEEN 1 AND 64),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    uom text NOT NULL CHECK (length(uom) BETWEEN 1 AND 16),
    lot_tracked boolean NOT NULL DEFAULT true,
    shelf_life_days integer CHECK (shelf_life_days IS NULL OR shelf_life_days > 0),
    standard_cost numeric(18,6) NOT NULL DEFAULT 0 CHECK (standard_cost >= 0),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE locations (
    id uuid PRIMARY KEY,
    code text NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind text NOT NULL CHECK (kind IN ('storage','receiving','quarantine','scrap','production','shipping')),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vendors (
    id uuid PRIMARY KEY,
    code text NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    contact_email text,
    contact_phone text,
    address text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id uuid PRIMARY KEY,
    code text NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    contact_email text,
    contact_phone text,
    address text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A posted movement is never edited: a correction is a new movement with reverses_movement_id set,
-- and the original's status becomes 'reversed' (its lines stay as they were).
CREATE TABLE inventory_movements (
    id uuid PRIMARY KEY,
    movement_type text NOT NULL CHECK (movement_type IN
        ('receipt','transfer','adjustment','production_consume','production_produce',
         'shipment','scrap','return')),
    status text NOT NULL DEFAULT 'posted' CHECK (status IN ('posted','reversed')),
    occurred_at timestamptz NOT NULL,
    external_ref text CHECK (external_ref IS NULL OR length(external_ref) BETWEEN 1 AND 200),
    vendor_id uuid REFERENCES vendors(id),
    customer_id uuid REFERENCES customers(id),
    reverses_movement_id uuid UNIQUE REFERENCES inventory_movements(id),
    notes text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (movement_type <> 'receipt' OR vendor_id IS NOT NULL OR reverses_movement_id IS NOT NULL),
    CHECK (movement_type NOT IN ('shipment','return') OR customer_id IS NOT NULL)
);
CREATE UNIQUE INDEX idx_inventory_movements_external_ref
    ON inventory_movements(external_ref) WHERE external_ref IS NOT NULL;
CREATE INDEX idx_inventory_movements_occurred ON inventory_movements(occurred_at);
CREATE INDEX idx_inventory_movements_type_occurred ON inventory_movements(movement_type, occurred_at);

CREATE TABLE inventory_movement_lines (
    id uuid PRIMARY KEY,
    movement_id uuid NOT NULL REFERENCES inventory_movements(id) ON DELETE CASCADE,
    line_no integer NOT NULL CHECK (line_no > 0),
    item_id uuid NOT NULL REFERENCES items(id),
    location_id uuid NOT NULL REFERENCES locations(id),
    uom text NOT NULL,
    quantity_delta numeric(18,6) NOT NULL CHECK (quantity_delta <> 0),
    unit_cost numeric(18,6) CHECK (unit_cost IS NULL OR unit_cost >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (movement_id, line_no)
);
CREATE INDEX idx_inventory_movement_lines_item_location ON inventory_movement_lines(item_id, location_id);

CREATE TABLE work_orders (
    id uuid PRIMARY KEY,
    number text NOT NULL UNIQUE CHECK (length(number) BETWEEN 1 AND 64),
    item_id uuid NOT NULL REFERENCES items(id),
    planned_quantity numeric(18,6) NOT NULL CHECK (planned_quantity > 0),
    uom text NOT NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','closed','canceled')),
    due_at timestamptz,
    notes text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One execution = one consume movement + one produce movement, posted together.
CREATE TABLE work_order_executions (
    id uuid PRIMARY KEY,
    work_order_id uuid NOT NULL REFERENCES work_orders(id),
    occurred_at timestamptz NOT NULL,
    consume_movement_id uuid REFERENCES inventory_movements(id),
    produce_movement_id uuid REFERENCES inventory_movements(id),
    external_ref text UNIQUE CHECK (external_ref IS NULL OR length(external_ref) BETWEEN 1 AND 200),
    notes text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_work_order_executions_work_order ON work_order_executions(work_order_id);

CREATE TABLE sales_orders (
    id uuid PRIMARY KEY,
    number text NOT NULL UNIQUE CHECK (length(number) BETWEEN 1 AND 64),
    customer_id uuid NOT NULL REFERENCES customers(id),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','closed','canceled')),
    ordered_at timestamptz NOT NULL,
    notes text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_sales_orders_customer ON sales_orders(customer_id);

CREATE TABLE sales_order_lines (
    id uuid PRIMARY KEY,
    sales_order_id uuid NOT NULL REFERENCES sales_orders(id) ON DELETE CASCADE,
    line_no integer NOT NULL CHECK (line_no > 0),
    item_id uuid NOT NULL REFERENCES items(id),
    uom text NOT NULL,
    quantity_ordered numeric(18,6) NOT NULL CHECK (quantity_ordered > 0),
    due_date date NOT NULL,
    promised_date date,
    unit_price numeric(18,6) CHECK (unit_price IS NULL OR unit_price >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sales_order_id, line_no)
);
CREATE INDEX idx_sales_order_lines_due ON sales_order_lines(due_date);

CREATE TABLE sales_order_shipments (
    id uuid PRIMARY KEY,
    sales_order_id uuid NOT NULL REFERENCES sales_orders(id),
    customer_id uuid NOT NULL REFERENCES customers(id),
    shipped_at timestamptz NOT NULL,
    inventory_movement_id uuid NOT NULL UNIQUE REFERENCES inventory_movements(id),
    external_ref text UNIQUE CHECK (external_ref IS NULL OR length(external_ref) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_sales_order_shipments_order ON sales_order_shipments(sales_order_id);
CREATE INDEX idx_sales_order_shipments_customer ON sales_order_shipments(customer_id);

-- Which order line each shipped movement line fills.
CREATE TABLE sales_order_shipment_lines (
    id uuid PRIMARY KEY,
    sales_order_shipment_id uuid NOT NULL REFERENCES sales_order_shipments(id) ON DELETE CASCADE,
    sales_order_line_id uuid NOT NULL REFERENCES sales_order_lines(id),
    inventory_movement_line_id uuid NOT NULL UNIQUE REFERENCES inventory_movement_lines(id),
    quantity numeric(18,6) NOT NULL CHECK (quantity > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_sales_order_shipment_lines_order_line ON sales_order_shipment_lines(sales_order_line_id);
