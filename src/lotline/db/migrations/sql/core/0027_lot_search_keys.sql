-- Derived search keys for the console's lot search as you type: vendor lot codes (the frozen lots
-- table may not get an index). One row per lot that has a vendor lot code.
-- Kept by a statement-level trigger on inventory_balances: every lot is created by a receipt or a
-- production output, which writes the lot's first balance row in the same transaction, and a lot's
-- vendor lot code is set when it is created. ENABLE ALWAYS: it also fires during the generator's
-- COPY load (session_replication_role = replica).
CREATE TABLE lot_search_keys (
    lot_id uuid PRIMARY KEY,
    key    text NOT NULL
);
CREATE INDEX idx_lot_search_keys_key ON lot_search_keys (key);

CREATE FUNCTION lot_search_keys_from_balances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lot_search_keys (lot_id, key)
    SELECT DISTINCT l.id, l.vendor_lot_code
      FROM new_balances b JOIN lots l ON l.id = b.lot_id
     WHERE l.vendor_lot_code IS NOT NULL
    ON CONFLICT (lot_id) DO UPDATE SET key = EXCLUDED.key WHERE lot_search_keys.key <> EXCLUDED.key;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_lot_search_keys AFTER INSERT ON inventory_balances
    REFERENCING NEW TABLE AS new_balances FOR EACH STATEMENT EXECUTE FUNCTION lot_search_keys_from_balances();
ALTER TABLE inventory_balances ENABLE ALWAYS TRIGGER trg_lot_search_keys;

INSERT INTO lot_search_keys (lot_id, key) SELECT id, vendor_lot_code FROM lots WHERE vendor_lot_code IS NOT NULL;
