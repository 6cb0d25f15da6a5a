-- What admins did, kept for good; and the indexes customer service's order search and the finance export use.

-- One row per admin action: who (admin_id), when (at), what (action, target, details) and from where (address).
-- Rows are never changed nor removed: the trigger below refuses UPDATE, DELETE and TRUNCATE whoever asks,
-- so no route (and no bug in one) can rewrite the history. Dropping the table stays possible for an owner.
CREATE TABLE admin_audit (
  id       BIGSERIAL PRIMARY KEY,
  at       TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  admin_id BIGINT NOT NULL REFERENCES users (id),
  action   TEXT NOT NULL CHECK (action ~ '^[a-z]+(-[a-z]+)*(\.[a-z]+(-[a-z]+)*)+$'),
  target   TEXT NOT NULL,
  details  JSONB NOT NULL DEFAULT '{}'::jsonb,
  address  TEXT NOT NULL
);

CREATE FUNCTION admin_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'admin_audit is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER admin_audit_append_only BEFORE UPDATE OR DELETE ON admin_audit
  FOR EACH ROW EXECUTE FUNCTION admin_audit_refuse_change();
CREATE TRIGGER admin_audit_no_truncate BEFORE TRUNCATE ON admin_audit
  FOR EACH STATEMENT EXECUTE FUNCTION admin_audit_refuse_change();

-- The audit list pages newest first by id (ids grow with time within one server); the primary key serves it.

-- Order search (GET /api/admin/orders), newest first by (created_at, order_no), each filter on its own index
-- so a page reads only the rows it shows:
--   orderNo                    → the primary key
--   phone                      → users.phone (unique), then orders_by_user below
--   seckillGoodId              → orders_by_good_created
--   seckillGoodId + status     → orders_by_good_status_created (also serves the stats' count per status,
--                                which the index it replaces served)
--   status                     → orders_by_status_created
--   no filter                  → orders_by_created
-- The export of one sale (orders.csv) walks orders_by_good_created in pages.
DROP INDEX orders_by_user;
CREATE INDEX orders_by_user ON orders (user_id, created_at DESC, order_no DESC);
DROP INDEX orders_by_good_status;
CREATE INDEX orders_by_good_status_created ON orders (seckill_good_id, status, created_at DESC, order_no DESC);
CREATE INDEX orders_by_good_created ON orders (seckill_good_id, created_at DESC, order_no DESC);
CREATE INDEX orders_by_status_created ON orders (status, created_at DESC, order_no DESC);
CREATE INDEX orders_by_created ON orders (created_at DESC, order_no DESC);

-- An admin refund marks the order's payment intent "refund due" in the transaction that moves the order
-- PAID → REFUNDED. Until the provider's refund is recorded, nothing may settle that intent (a buyer's pay of the
-- same order finishing at that moment would otherwise close it), so a process that dies between the commit and
-- the provider's refund leaves it open, and the reconciler gives the money back.
ALTER TABLE payment_intents ADD COLUMN refund_due BOOLEAN NOT NULL DEFAULT false;
