/**
 * The admin audit log: what admins did, newest first, a page at a time. Actions that write to the database
 * record their entry in their own transaction (the stores take `audit`); the others record right after they
 * are done (a replay), so an entry never names an action that did not happen.
 */
import { auditCursor, auditIdOf } from './cursors.ts';
import type { AdminActor, AuditRecord } from './model.ts';
import type { AuditLog } from './ports/audit-log.ts';
import type { OrderBus } from './ports/order-bus.ts';

export interface AuditPage {
  items: AuditRecord[];
  nextCursor: string | null;
}

export async function listAudit(deps: { audit: AuditLog }, page: { cursor?: string; limit: number }): Promise<AuditPage> {
  const before = page.cursor === undefined ? undefined : auditIdOf(page.cursor);
  const rows = await deps.audit.list({ ...(before !== undefined ? { before } : {}), limit: page.limit + 1 });
  const shown = rows.slice(0, page.limit);
  const last = shown.at(-1);
  return { items: shown, nextCursor: rows.length > page.limit && last ? auditCursor(last.id) : null };
}

/**
 * Dead-lettered order batches back to work, then the entry: the replay is a broker operation, not a database
 * write, so it cannot share a transaction with the entry. A replay that fails records nothing (nothing moved,
 * or what moved is safe to move again); one whose entry then fails to write still answers the error.
 */
export async function replayDeadOrders(
  deps: { bus: Pick<OrderBus, 'replayDeadOrders'>; audit: Pick<AuditLog, 'record'> },
  max: number,
  by: AdminActor,
): Promise<number> {
  const replayed = await deps.bus.replayDeadOrders(max);
  await deps.audit.record({ adminId: by.adminId, action: 'dead-orders.replay', target: 'dead-orders', details: { max, replayed }, address: by.address });
  return replayed;
}
