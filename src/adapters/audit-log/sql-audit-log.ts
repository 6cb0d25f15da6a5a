/**
 * AuditLog on SQL (PostgreSQL or PGlite through `Database`): the append-only `admin_audit` table (migration 006,
 * whose trigger refuses UPDATE, DELETE and TRUNCATE). `insertAuditEntry` is shared with the stores, which write
 * an action's entry inside the action's own transaction.
 */
import type { AuditLog } from '../../core/ports/audit-log.ts';
import type { AuditAction, AuditEntry, AuditRecord } from '../../core/model.ts';
import type { Database, Queryable } from '../database/database.ts';

interface AuditRow {
  id: number;
  at: Date;
  admin_id: number;
  action: AuditAction;
  target: string;
  details: Record<string, unknown>;
  address: string;
}

const COLUMNS = 'id, at, admin_id, action, target, details, address';

const recordFromRow = (row: AuditRow): AuditRecord => ({
  id: row.id,
  at: row.at,
  adminId: row.admin_id,
  action: row.action,
  target: row.target,
  details: row.details,
  address: row.address,
});

export async function insertAuditEntry(q: Queryable, entry: AuditEntry): Promise<AuditRecord> {
  const [row] = await q.query<AuditRow>(
    `INSERT INTO admin_audit (admin_id, action, target, details, address) VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING ${COLUMNS}`,
    [entry.adminId, entry.action, entry.target, JSON.stringify(entry.details), entry.address],
  );
  return recordFromRow(row!);
}

export function createSqlAuditLog(db: Database): AuditLog {
  return {
    record: (entry) => insertAuditEntry(db, entry),
    async list({ before, limit }) {
      const rows =
        before === undefined
          ? await db.query<AuditRow>(`SELECT ${COLUMNS} FROM admin_audit ORDER BY id DESC LIMIT $1`, [limit])
          : await db.query<AuditRow>(`SELECT ${COLUMNS} FROM admin_audit WHERE id < $1 ORDER BY id DESC LIMIT $2`, [before, limit]);
      return rows.map(recordFromRow);
    },
  };
}
