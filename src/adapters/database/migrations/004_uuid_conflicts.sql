-- A request id sent again by another buyer, or for another good, cannot take the first request's result
-- (uuid is the key of seckill_results). Its outcome, FAIL with reason UUID_CONFLICT, is kept here so the
-- buyer who sent it can read it like any other result.
CREATE TABLE seckill_conflicts (
  uuid            TEXT NOT NULL,
  user_id         BIGINT NOT NULL,
  seckill_good_id BIGINT NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (uuid, user_id, seckill_good_id)
);
