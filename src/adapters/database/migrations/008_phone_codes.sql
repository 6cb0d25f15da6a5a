-- One-time codes proving a phone is the buyer's: one live code per phone and purpose, kept as a keyed hash.
CREATE TABLE phone_codes (
  id BIGSERIAL PRIMARY KEY,
  phone TEXT NOT NULL,
  purpose TEXT NOT NULL CHECK (purpose IN ('register', 'reset')),
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  expires_at TIMESTAMPTZ NOT NULL,
  UNIQUE (phone, purpose)
);

-- The development SMS sender's outbox: every api process (and the embedded page) reads the same messages.
CREATE TABLE sms_outbox (
  id BIGSERIAL PRIMARY KEY,
  phone TEXT NOT NULL,
  body TEXT NOT NULL,
  sent_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sms_outbox_by_phone ON sms_outbox (phone, id DESC);
