import { describe, expect, it } from 'vitest';
import { auditCursor, auditIdOf, orderCursor, orderKeyOf } from './cursors.ts';

const refused = (fn: () => unknown) => expect(fn).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', details: expect.objectContaining({ fields: ['cursor'] }) }));

describe('page cursors', () => {
  it('an order cursor → the same key back, to the microsecond; an audit cursor → the same id', () => {
    const key = { createdAt: '2030-01-01T10:00:00.000002Z', orderNo: 'O123abc' };
    expect(orderKeyOf(orderCursor(key))).toEqual(key);
    expect(auditIdOf(auditCursor(42))).toBe(42);
  });

  it('a cursor of the other list, a damaged one, a forged one or junk → INVALID_INPUT naming cursor', () => {
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    refused(() => orderKeyOf(auditCursor(1)));
    refused(() => auditIdOf(orderCursor({ createdAt: '2030-01-01T10:00:00.000002Z', orderNo: 'O1' })));
    refused(() => orderKeyOf(orderCursor({ createdAt: '2030-01-01T10:00:00.000002Z', orderNo: 'O1' }).slice(0, -3)));
    refused(() => orderKeyOf(forged({ o: ["2030-01-01T10:00:00.000002Z'; DROP TABLE orders; --", 'O1'] })));
    refused(() => orderKeyOf(forged({ o: ['2030-13-45T10:00:00.000002Z', 'O1'] })));
    refused(() => orderKeyOf(forged({ o: ['2030-01-01T10:00:00.000002Z', 'O-1'] })));
    refused(() => auditIdOf(forged({ a: -1 })));
    refused(() => auditIdOf(forged({ a: 1.5 })));
    refused(() => auditIdOf(forged(null)));
    refused(() => auditIdOf('%%%'));
    refused(() => auditIdOf('x'.repeat(401)));
  });
});
