-- Order lifecycle: payments and refunds as recorded rows, overdue lookups, reconciler-expired requests.

CREATE TABLE payments (
  id              BIGSERIAL PRIMARY KEY,
  order_no        TEXT NOT NULL REFERENCES orders (order_no),
  kind            TEXT NOT NULL CHECK (kind IN ('CHARGE', 'REFUND')),
  amount_cents    INTEGER NOT NULL CHECK (amount_cents >= 0),
  provider_ref    TEXT NOT NULL,
  -- A payment reported twice (a retried request, a provider callback delivered twice) is one row.
  idempotency_key TEXT NOT NULL UNIQUE,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX payments_by_order ON payments (order_no);

-- The timeout handler and the reconciler look for UNPAID orders past their deadline.
CREATE INDEX orders_unpaid_by_deadline ON orders (pay_deadline) WHERE status = 'UNPAID';

ALTER TABLE seckill_results DROP CONSTRAINT seckill_results_reason_check;
ALTER TABLE seckill_results ADD CONSTRAINT seckill_results_reason_check
  CHECK (reason IN ('SOLD_OUT', 'DUPLICATE_ORDER', 'UUID_CONFLICT', 'NOT_FOUND', 'EXPIRED'));
