-- A token carries its user's token version; raising the version (logout, a password or role change) makes
-- every token issued before it invalid.
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
