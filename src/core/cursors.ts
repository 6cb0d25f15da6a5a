/**
 * Page cursors of the admin lists: opaque to clients (base64url of a small JSON), checked strictly when they
 * come back, so a forged or damaged cursor is INVALID_INPUT naming `cursor`, never a database error.
 */
import { SeckillError } from './errors.ts';
import { LIST_LIMITS, ORDER_NO } from './formats.ts';
import type { OrderKey } from './model.ts';

const badCursor = () =>
  new SeckillError('INVALID_INPUT', 'Invalid cursor: pass back the nextCursor of a previous page unchanged.', {
    details: { fields: ['cursor'], problems: [{ field: 'cursor', problem: 'not a cursor this list gave out' }] },
  });

const CURSOR = new RegExp(`^[A-Za-z0-9_-]{1,${LIST_LIMITS.cursorLength}}$`);
const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

function decode(cursor: string): unknown {
  if (!CURSOR.test(cursor)) throw badCursor();
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
}

// The database's own microsecond UTC text (sql-order-search.ts); anything else is refused.
const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export const orderCursor = (key: OrderKey) => encode({ o: [key.createdAt, key.orderNo] });

export function orderKeyOf(cursor: string): OrderKey {
  const value = decode(cursor) as { o?: unknown } | null;
  const o = value?.o;
  if (!Array.isArray(o) || o.length !== 2) throw badCursor();
  const [createdAt, orderNo] = o as unknown[];
  if (typeof createdAt !== 'string' || !CREATED_AT.test(createdAt) || Number.isNaN(Date.parse(createdAt))) throw badCursor();
  if (typeof orderNo !== 'string' || !ORDER_NO.test(orderNo)) throw badCursor();
  return { createdAt, orderNo };
}

export const auditCursor = (id: number) => encode({ a: id });

export function auditIdOf(cursor: string): number {
  const value = decode(cursor) as { a?: unknown } | null;
  const id = value?.a;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw badCursor();
  return id;
}
