-- GS1 identifiers of master data, and EPCIS capture: jobs, per-event results, captured events.
-- Additions only; no Phase 7 table is touched.

-- Several identifiers per record where reality has them (a pallet GTIN and a case GTIN; a plant's GLN
-- and its dock's SGLN). digits: GTIN-14 or GLN-13, check digit verified by the service. extension: an
-- SGLN extension ('' for the GLN itself). company_prefix_length: where the GS1 company prefix ends,
-- needed to write the URN form (NULL when unknown: lotline then writes GS1 Digital Link).
CREATE TABLE gs1_identifiers (
    id uuid PRIMARY KEY,
    target text NOT NULL CHECK (target IN ('item','location','vendor','customer')),
    scheme text NOT NULL CHECK (scheme IN ('gtin','gln')),
    digits text NOT NULL CHECK (digits ~ '^[0-9]{13,14}$'),
    extension text NOT NULL DEFAULT '' CHECK (length(extension) <= 20),
    company_prefix_length smallint CHECK (company_prefix_length BETWEEN 6 AND 12),
    item_id uuid REFERENCES items(id) ON DELETE CASCADE,
    location_id uuid REFERENCES locations(id) ON DELETE CASCADE,
    vendor_id uuid REFERENCES vendors(id) ON DELETE CASCADE,
    customer_id uuid REFERENCES customers(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((scheme = 'gtin') = (target = 'item')),
    CHECK (num_nonnulls(item_id, location_id, vendor_id, customer_id) = 1),
    CHECK ((target = 'item') = (item_id IS NOT NULL) AND (target = 'location') = (location_id IS NOT NULL)
       AND (target = 'vendor') = (vendor_id IS NOT NULL) AND (target = 'customer') = (customer_id IS NOT NULL)),
    CONSTRAINT gs1_identifiers_key UNIQUE (target, scheme, digits, extension)
);
CREATE INDEX idx_gs1_identifiers_item ON gs1_identifiers(item_id) WHERE item_id IS NOT NULL;
CREATE INDEX idx_gs1_identifiers_location ON gs1_identifiers(location_id) WHERE location_id IS NOT NULL;
CREATE INDEX idx_gs1_identifiers_vendor ON gs1_identifiers(vendor_id) WHERE vendor_id IS NOT NULL;
CREATE INDEX idx_gs1_identifiers_customer ON gs1_identifiers(customer_id) WHERE customer_id IS NOT NULL;

-- One capture of one document (CLI import or POST /epcis/capture).
CREATE TABLE epcis_capture_jobs (
    id uuid PRIMARY KEY,
    status text NOT NULL CHECK (status IN ('running','succeeded','partial','failed')),
    atomic boolean NOT NULL,
    create_master_data boolean NOT NULL,
    source text,
    document_sha256 text,
    events_total integer NOT NULL DEFAULT 0,
    posted integer NOT NULL DEFAULT 0,
    replayed integer NOT NULL DEFAULT 0,
    stored integer NOT NULL DEFAULT 0,
    skipped integer NOT NULL DEFAULT 0,
    refused integer NOT NULL DEFAULT 0,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX idx_epcis_capture_jobs_created ON epcis_capture_jobs(created_at);

-- What happened to each event of a job, in document order (seq = 0-based index in the eventList).
CREATE TABLE epcis_capture_results (
    job_id uuid NOT NULL REFERENCES epcis_capture_jobs(id) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq >= 0),
    event_key text,
    event_type text,
    outcome text NOT NULL CHECK (outcome IN ('posted','replayed','stored','skipped','refused')),
    mapping text,
    code text,
    message text,
    PRIMARY KEY (job_id, seq)
);

-- Every captured event that was not refused, as received, with what lotline made of it.
-- event_key: the eventID, or lotline's content hash of an event that has none; an error declaration
-- of event K is captured under K || '#declaration'.
CREATE TABLE epcis_events (
    id uuid PRIMARY KEY,
    event_key text NOT NULL,
    event_type text NOT NULL,
    event_time timestamptz NOT NULL,
    record_time timestamptz NOT NULL DEFAULT now(),
    action text,
    biz_step text,
    disposition text,
    outcome text NOT NULL CHECK (outcome IN ('posted','stored','skipped')),
    mapping text NOT NULL,
    epc_classes text[] NOT NULL DEFAULT '{}',
    lot_ids uuid[] NOT NULL DEFAULT '{}',
    effects jsonb NOT NULL DEFAULT '{}',
    declared_at timestamptz,
    capture_job_id uuid REFERENCES epcis_capture_jobs(id) ON DELETE SET NULL,
    body jsonb NOT NULL,
    CONSTRAINT epcis_events_key UNIQUE (event_key)
);
CREATE INDEX idx_epcis_events_time ON epcis_events(event_time);
CREATE INDEX idx_epcis_events_classes ON epcis_events USING gin (epc_classes);
CREATE INDEX idx_epcis_events_lots ON epcis_events USING gin (lot_ids);
