-- The simulated payment provider's own ledger. A real provider keeps this on its side; the simulation
-- keeps it here so that every process sees the same charges (a reconciler in a worker process asks
-- about a charge an api process took before it died). Nothing of the shop's own tables refers to it.
CREATE TABLE simulated_provider_ledger (
  idempotency_key TEXT PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('CHARGE', 'REFUND')),
  ref             TEXT NOT NULL UNIQUE,
  amount_cents    INTEGER NOT NULL CHECK (amount_cents >= 0),
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
