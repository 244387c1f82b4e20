-- The latest ledger time (occurred_at) of each balance key, kept by the posting service in the same
-- UPDATE as the quantity. A decrease at or after it has no later ledger entries and checks the
-- balance alone; an earlier (back-dated) one reads that lot's later ledger at that location to keep
-- the lot non-negative at every instant. NULL means unknown: rows that existed before this
-- revision and bulk-loaded rows (the generator) — the next decrease of such a row reads its
-- ledger once and records the time. Left NULL here rather than backfilled: a backfill aggregates
-- the whole ledger (minutes on the benchmark data) for what the first posting learns for free.
ALTER TABLE inventory_balances ADD COLUMN last_occurred_at timestamptz;
