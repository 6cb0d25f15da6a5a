/** UserStore on SQL (PostgreSQL or PGlite through `Database`). */
import type { UserStore } from '../../core/ports/user-store.ts';
import type { Role, User } from '../../core/model.ts';
import type { Database } from '../database/database.ts';

interface UserRow {
  id: number;
  phone: string;
  nickname: string;
  role: Role;
  password_hash: string;
  token_version: number;
}

const USER_COLUMNS = 'id, phone, nickname, role, password_hash, token_version';

function userFromRow(row: UserRow): User {
  return { id: row.id, phone: row.phone, nickname: row.nickname, role: row.role, tokenVersion: row.token_version };
}

export function createSqlUserStore(db: Database): UserStore {
  return {
    async create(user) {
      // ON CONFLICT rather than catching 23505: a taken phone is an expected answer, not a server error.
      const [row] = await db.query<UserRow>(
        `INSERT INTO users (phone, nickname, password_hash, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (phone) DO NOTHING
         RETURNING ${USER_COLUMNS}`,
        [user.phone, user.nickname, user.passwordHash, user.role],
      );
      return row ? userFromRow(row) : null;
    },

    async upsert(user) {
      // An existing account keeps its nickname; its password and role are the ones given. A changed password
      // or role raises the token version, so tokens issued before stop working.
      const [row] = await db.query<UserRow>(
        `INSERT INTO users (phone, nickname, password_hash, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (phone) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
           token_version = users.token_version
             + CASE WHEN users.password_hash <> EXCLUDED.password_hash OR users.role <> EXCLUDED.role THEN 1 ELSE 0 END
         RETURNING ${USER_COLUMNS}`,
        [user.phone, user.nickname, user.passwordHash, user.role],
      );
      return userFromRow(row!);
    },

    async findByPhone(phone) {
      const [row] = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE phone = $1`, [phone]);
      return row ? { ...userFromRow(row), passwordHash: row.password_hash } : null;
    },

    async findById(id) {
      const [row] = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
      return row ? userFromRow(row) : null;
    },

    async tokenVersionsOf(ids) {
      if (ids.length === 0) return [];
      const rows = await db.query<{ id: number; role: Role; token_version: number }>(
        'SELECT id, role, token_version FROM users WHERE id = ANY($1::bigint[])',
        [ids],
      );
      return rows.map((r) => ({ id: r.id, role: r.role, tokenVersion: r.token_version }));
    },

    async bumpTokenVersion(id) {
      const [row] = await db.query<{ token_version: number }>(
        'UPDATE users SET token_version = token_version + 1 WHERE id = $1 RETURNING token_version',
        [id],
      );
      return row ? row.token_version : null;
    },

    async setPasswordHash(id, passwordHash, { bump }) {
      await db.query(
        `UPDATE users SET password_hash = $2, token_version = token_version + CASE WHEN $3::boolean THEN 1 ELSE 0 END WHERE id = $1`,
        [id, passwordHash, bump],
      );
    },

    async addRefreshToken({ tokenHash, userId, family, tokenVersion, expiresAt }) {
      await db.query('INSERT INTO refresh_tokens (token_hash, user_id, family, token_version, expires_at) VALUES ($1, $2, $3, $4, $5)', [
        tokenHash,
        userId,
        family,
        tokenVersion,
        expiresAt,
      ]);
    },

    async rotateRefreshToken(tokenHash, next, now) {
      // One statement: the guard on used_at makes the UPDATE the single winner of concurrent uses.
      const [rotated] = await db.query<{ user_id: number; token_version: number }>(
        `WITH used AS (
           UPDATE refresh_tokens SET used_at = $4
           WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $4
           RETURNING user_id, family, token_version)
         INSERT INTO refresh_tokens (token_hash, user_id, family, token_version, expires_at)
         SELECT $2, user_id, family, token_version, $3 FROM used
         RETURNING user_id, token_version`,
        [tokenHash, next.tokenHash, next.expiresAt, now],
      );
      if (rotated) return { userId: rotated.user_id, tokenVersion: rotated.token_version };
      const revoked = await db.query(
        `UPDATE refresh_tokens SET revoked_at = $2
         WHERE family = (SELECT family FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL) AND revoked_at IS NULL
         RETURNING 1`,
        [tokenHash, now],
      );
      if (revoked.length > 0) return 'reused';
      // A used token of a family already revoked is a reuse too.
      const [known] = await db.query('SELECT 1 FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL', [tokenHash]);
      return known ? 'reused' : null;
    },

    async revokeRefreshTokens(userId, now) {
      await db.query('UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL', [userId, now]);
    },

    async replaceHashIf(id, expectedOldHash, newHash) {
      const rows = await db.query('UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2 RETURNING 1', [id, expectedOldHash, newHash]);
      return rows.length > 0;
    },
  };
}
