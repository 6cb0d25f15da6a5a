-- Users, seckill goods, orders and the stored outcome of every queued request.
-- Runs on PostgreSQL 15+ and PGlite alike. Money is integer cents.

CREATE TABLE users (
  id            BIGSERIAL PRIMARY KEY,
  phone         TEXT NOT NULL UNIQUE,
  nickname      TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('user', 'admin')),
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE seckill_goods (
  id                  BIGSERIAL PRIMARY KEY,
  name                TEXT NOT NULL,
  title               TEXT NOT NULL DEFAULT '',
  image_url           TEXT NOT NULL DEFAULT '',
  price_cents         INTEGER NOT NULL CHECK (price_cents >= 0),
  seckill_price_cents INTEGER NOT NULL CHECK (seckill_price_cents >= 0),
  initial_stock       INTEGER NOT NULL CHECK (initial_stock >= 0),
  -- The database is the truth for stock: it can never go negative nor exceed what went on sale.
  stock               INTEGER NOT NULL CHECK (stock >= 0 AND stock <= initial_stock),
  start_at            TIMESTAMPTZ NOT NULL,
  end_at              TIMESTAMPTZ NOT NULL,
  created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK (end_at > start_at)
);

CREATE TABLE orders (
  order_no            TEXT PRIMARY KEY,
  -- The request that made the order: a request delivered twice can never make two orders.
  uuid                TEXT NOT NULL UNIQUE,
  user_id             BIGINT NOT NULL REFERENCES users (id),
  seckill_good_id     BIGINT NOT NULL REFERENCES seckill_goods (id),
  seckill_price_cents INTEGER NOT NULL CHECK (seckill_price_cents >= 0),
  status              TEXT NOT NULL CHECK (status IN ('UNPAID', 'PAID', 'CANCELLED', 'TIMEOUT', 'REFUNDED')),
  created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  pay_deadline        TIMESTAMPTZ NOT NULL,
  paid_at             TIMESTAMPTZ,
  closed_at           TIMESTAMPTZ
);

-- At most one live order per buyer and good, whatever the interleaving of workers.
CREATE UNIQUE INDEX orders_one_live_per_buyer ON orders (user_id, seckill_good_id)
  WHERE status IN ('UNPAID', 'PAID');
CREATE INDEX orders_by_user ON orders (user_id, created_at DESC);
CREATE INDEX orders_by_good_status ON orders (seckill_good_id, status);

-- The outcome of each queued request (one uuid): answers polling, and makes the worker idempotent.
CREATE TABLE seckill_results (
  uuid            TEXT PRIMARY KEY,
  user_id         BIGINT NOT NULL,
  seckill_good_id BIGINT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('SUCCESS', 'FAIL')),
  order_no        TEXT,
  reason          TEXT CHECK (reason IN ('SOLD_OUT', 'DUPLICATE_ORDER', 'UUID_CONFLICT', 'NOT_FOUND')),
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK ((status = 'SUCCESS') = (order_no IS NOT NULL))
);
