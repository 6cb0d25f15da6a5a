/** PhoneCodeStore on SQL (PostgreSQL or PGlite through `Database`). */
import type { PhoneCodeStore } from '../../core/ports/phone-code-store.ts';
import type { Database } from '../database/database.ts';

export function createSqlPhoneCodeStore(db: Database): PhoneCodeStore {
  return {
    async put({ phone, purpose, codeHash, expiresAt }) {
      // A new id on replacement, so a consume of the code it replaced cannot use this one up.
      await db.query(
        `INSERT INTO phone_codes (phone, purpose, code_hash, attempts, expires_at) VALUES ($1, $2, $3, 0, $4)
         ON CONFLICT (phone, purpose) DO UPDATE
           SET id = nextval(pg_get_serial_sequence('phone_codes', 'id')), code_hash = EXCLUDED.code_hash, attempts = 0, expires_at = EXCLUDED.expires_at`,
        [phone, purpose, codeHash, expiresAt],
      );
    },

    async takeAttempt(phone, purpose, now, maxAttempts) {
      // One conditional UPDATE: racing guesses each count, and none passes the limit.
      const [row] = await db.query<{ id: number; code_hash: string }>(
        `UPDATE phone_codes SET attempts = attempts + 1
         WHERE phone = $1 AND purpose = $2 AND expires_at > $3 AND attempts < $4
         RETURNING id, code_hash`,
        [phone, purpose, now, maxAttempts],
      );
      return row ? { id: row.id, codeHash: row.code_hash } : null;
    },

    async consume(id) {
      const rows = await db.query('DELETE FROM phone_codes WHERE id = $1 RETURNING id', [id]);
      return rows.length === 1;
    },
  };
}
