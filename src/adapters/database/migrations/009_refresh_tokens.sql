-- Refresh tokens: long-lived, one use each. Only a hash of the token is kept (a stolen table logs nobody in).
-- A token and the ones rotated from it share a family; a used token presented again revokes its family.
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family TEXT NOT NULL,
  -- The user's token version at issue: a logout, password or role change (a new version) ends the family too.
  token_version INTEGER NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ,
  revoked_at TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
