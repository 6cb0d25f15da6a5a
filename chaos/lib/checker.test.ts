import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { History } from './buyers.ts';
import { check, type Snapshot } from './checker.ts';

const NOW = new Date('2030-01-01T10:00:00Z');
const past = new Date(NOW.getTime() - 60_000);

/** One sold-out good of 2 units (one PAID, one UNPAID not yet due) and one spare good with a cancelled order. */
function consistent(): { s: Snapshot; h: History } {
  const s: Snapshot = {
    goods: [
      { id: 1, initialStock: 2, stock: 0, preStock: 0, queued: 0, spare: false },
      { id: 2, initialStock: 50, stock: 50, preStock: 50, queued: 0, spare: true },
    ],
    orders: [
      { orderNo: 'o1', uuid: 'u1', userId: 10, goodId: 1, status: 'PAID', payDeadline: past, paidAt: new Date(past.getTime() + 30_000), payStartedAt: new Date(past.getTime() - 1000), price: 100 },
      { orderNo: 'o2', uuid: 'u2', userId: 11, goodId: 1, status: 'UNPAID', payDeadline: new Date(NOW.getTime() + 5000), price: 100 },
      { orderNo: 'o3', uuid: 'u3', userId: 10, goodId: 2, status: 'CANCELLED', payDeadline: past, price: 300 },
    ],
    results: [
      { uuid: 'u1', userId: 10, goodId: 1, status: 'SUCCESS', orderNo: 'o1', reason: null },
      { uuid: 'u2', userId: 11, goodId: 1, status: 'SUCCESS', orderNo: 'o2', reason: null },
      { uuid: 'u3', userId: 10, goodId: 2, status: 'SUCCESS', orderNo: 'o3', reason: null },
      { uuid: 'u4', userId: 12, goodId: 1, status: 'FAIL', orderNo: null, reason: 'SOLD_OUT' },
    ],
    payments: [{ orderNo: 'o1', kind: 'CHARGE', amount: 100 }],
    openIntents: 0,
    provider: { charged: 100, refunded: 0 },
    finalPolls: new Map([
      ['u1', { status: 'SUCCESS', orderNo: 'o1' }],
      ['u2', { status: 'SUCCESS', orderNo: 'o2' }],
      ['u3', { status: 'SUCCESS', orderNo: 'o3' }],
      ['u4', { status: 'FAIL', reason: 'SOLD_OUT' }],
    ]),
    now: NOW,
  };
  const req = (uuid: string, userId: number, goodId: number, finals: History['requests'][number]['finals']) => ({ uuid, userId, goodId, answers: ['200'], queued: true, finals });
  const h: History = {
    requests: [
      req('u1', 10, 1, [{ via: 'ws', status: 'SUCCESS', orderNo: 'o1' }]),
      req('u2', 11, 1, [{ via: 'poll', status: 'SUCCESS', orderNo: 'o2' }]),
      req('u3', 10, 2, [{ via: 'poll', status: 'SUCCESS', orderNo: 'o3' }]),
      req('u4', 12, 1, [{ via: 'poll', status: 'FAIL', reason: 'SOLD_OUT' }]),
      { uuid: 'u5', userId: 13, goodId: 1, answers: ['network ECONNREFUSED', '409 SOLD_OUT'], queued: false, refused: '409 SOLD_OUT', finals: [] },
    ],
    actions: [
      { orderNo: 'o1', userId: 10, kind: 'pay', answers: ['200'], outcome: { status: 200, orderStatus: 'PAID' } },
      { orderNo: 'o3', userId: 10, kind: 'cancel', answers: ['503 UNAVAILABLE', '200'], outcome: { status: 200, orderStatus: 'CANCELLED' } },
    ],
    timeline: [],
    serverErrors: [],
  };
  return { s, h };
}

function violationsAfter(change: (s: Snapshot, h: History) => void): string[] {
  const { s, h } = consistent();
  change(s, h);
  return check(s, h).violations;
}

describe('chaos checker', () => {
  it('a consistent end state has no violations, and its figures count what happened', () => {
    const { s, h } = consistent();
    const report = check(s, h);
    expect(report.violations).toEqual([]);
    expect(report.figures).toMatchObject({ requests: 5, queued: 4, refused: 1, retries: 1, orders: 3, paid: 1, fails: 1 });
  });

  const rules: [string, (s: Snapshot, h: History) => void, RegExp][] = [
    ['oversold', (s) => s.orders.push({ orderNo: 'o9', uuid: 'u9', userId: 14, goodId: 1, status: 'PAID', payDeadline: past, price: 100 }), /oversold/],
    ['a unit leaked', (s) => (s.goods[1]!.stock = 49), /leaked/],
    ['cache and database disagree', (s) => (s.goods[0]!.preStock = 1), /pre-stock 1 ≠ database stock 0/],
    ['a reservation still held', (s) => (s.goods[1]!.queued = 2), /still held/],
    ['two live orders of one buyer', (s) => {
      s.goods[1]!.stock = 48;
      s.goods[1]!.preStock = 48;
      s.orders.push({ orderNo: 'o7', uuid: 'u7', userId: 11, goodId: 2, status: 'UNPAID', payDeadline: NOW, price: 300 }, { orderNo: 'o8', uuid: 'u8', userId: 11, goodId: 2, status: 'PAID', payDeadline: NOW, price: 300 });
    }, /2 live orders/],
    ['a request answered INVALID_INPUT that became an order', (_s, h) => {
      h.requests[0]!.answers = ['network TimeoutError', '400 INVALID_INPUT'];
      h.requests[0]!.queued = false;
    }, /u1: answered 400 INVALID_INPUT, yet it became order o1/],
    ['a queued request with no result', (s) => {
      s.results = s.results.filter((r) => r.uuid !== 'u4');
      s.finalPolls.set('u4', { status: 'QUEUED' });
    }, /no stored result/],
    ['two different results seen', (_s, h) => h.requests[3]!.finals.push({ via: 'ws', status: 'SUCCESS', orderNo: 'oX' }), /more than one result/],
    ['a FAIL in a sale with units to spare', (s) => s.results.push({ uuid: 'u6', userId: 15, goodId: 2, status: 'FAIL', orderNo: null, reason: 'EXPIRED' }), /units to spare/],
    ['an order nobody was told of', (s) => s.results.splice(0, 1), /no SUCCESS result names it/],
    ['an order left unpaid past its deadline', (s) => (s.orders[1]!.payDeadline = past), /past its deadline/],
    ['an order paid by a payment that started after its deadline', (s) => (s.orders[0]!.payStartedAt = new Date(past.getTime() + 2000)), /payment that started 2.0 s after its pay deadline/],
    ['an order paid without a payment intent', (s) => delete s.orders[0]!.payStartedAt, /PAID without a payment intent/],
    ['a charge recorded for a cancelled order', (s) => s.payments.push({ orderNo: 'o3', kind: 'CHARGE', amount: 300 }), /payments − refunds/],
    ['the provider took money the shop has not recorded', (s) => (s.provider.charged = 400), /provider/],
    ['an open payment intent', (s) => (s.openIntents = 1), /intents still open/],
    ['a buyer told PAID of an order that is not', (s) => (s.orders[0]!.status = 'REFUNDED'), /pay answered PAID/],
    ['a 500', (_s, h) => h.serverErrors.push('POST /api/seckill/orders: 500'), /server error/],
    ['negative database stock', (s) => {
      s.goods[0]!.stock = -1;
      s.goods[0]!.preStock = -1;
    }, /database stock -1 < 0/],
    ['a queued request the result endpoint still calls QUEUED', (s) => s.finalPolls.set('u4', { status: 'QUEUED' }), /u4: QUEUED but the result endpoint answers QUEUED/],
    ['a result the buyer saw that is not the stored one', (s) => {
      s.results[3] = { ...s.results[3]!, reason: 'DUPLICATE_ORDER', status: 'SUCCESS', orderNo: 'o2' };
    }, /u4: a result seen \(FAIL\/\) differs from the stored SUCCESS\/o2/],
    ['a stored result of another buyer', (s) => (s.results[3] = { ...s.results[3]!, userId: 99 }), /u4: stored result belongs to buyer 99/],
    ['a SUCCESS naming an order that does not exist', (s) => s.results.push({ uuid: 'u6', userId: 15, goodId: 1, status: 'SUCCESS', orderNo: 'o404', reason: null }), /u6: SUCCESS with order o404 that does not exist/],
    ['a SUCCESS naming another request\'s order', (s) => s.results.push({ uuid: 'u6', userId: 15, goodId: 1, status: 'SUCCESS', orderNo: 'o2', reason: null }), /u6: order o2 belongs to another request/],
    ['a PAID order with two charges', (s) => {
      s.payments.push({ orderNo: 'o1', kind: 'CHARGE', amount: 100 }, { orderNo: 'o1', kind: 'REFUND', amount: 100 });
    }, /order o1 \(PAID\): 2 charges, 1 refunds recorded/],
    ['a buyer told "refunded" of an order that is PAID', (_s, h) => (h.actions[0]!.outcome = { status: 409, refunded: true }), /o1: pay answered refunded, database says PAID/],
    ['a buyer told CANCELLED of an order that is not', (s) => (s.orders[2]!.status = 'TIMEOUT'), /o3: cancel answered CANCELLED, database says TIMEOUT/],
  ];

  it.each(rules)('finds %s', (_name, change, message) => {
    expect(violationsAfter(change).join('\n')).toMatch(message);
  });

  it('every rule of the checker has a case above that shows it failing', () => {
    const source = readFileSync(new URL('./checker.ts', import.meta.url), 'utf8');
    const sites = source.split('v.push(').length - 1;
    expect(sites).toBeGreaterThan(20);
    expect(rules.length).toBeGreaterThanOrEqual(sites);
    // And each case's message is found by its own rule: no two cases prove the same line.
    expect(new Set(rules.map(([, , m]) => m.source)).size).toBe(rules.length);
  });
});
