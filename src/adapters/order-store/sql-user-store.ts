/** UserStore on SQL (PostgreSQL or PGlite through `Database`). */
import type { Role, User, UserStore } from '../../core/ports.ts';
import type { Database } from '../database/database.ts';

interface UserRow {
  id: number;
  phone: string;
  nickname: string;
  role: Role;
  password_hash: string;
}

const USER_COLUMNS = 'id, phone, nickname, role, password_hash';

function userFromRow(row: UserRow): User {
  return { id: row.id, phone: row.phone, nickname: row.nickname, role: row.role };
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
      // An existing account keeps its nickname; its password and role are the ones given.
      const [row] = await db.query<UserRow>(
        `INSERT INTO users (phone, nickname, password_hash, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (phone) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role
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
  };
}
