-- A payment intent is written before the provider is asked to charge, and settled once the outcome is
-- recorded. An intent left open (the process died between the charge and the record) is settled by the
-- reconciler, which asks the provider by the same idempotency key.
CREATE TABLE payment_intents (
  order_no        TEXT PRIMARY KEY REFERENCES orders (order_no),
  amount_cents    INTEGER NOT NULL CHECK (amount_cents >= 0),
  idempotency_key TEXT NOT NULL UNIQUE,
  status          TEXT NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'SETTLED')),
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  settled_at      TIMESTAMPTZ
);
CREATE INDEX payment_intents_open ON payment_intents (created_at) WHERE status = 'OPEN';
