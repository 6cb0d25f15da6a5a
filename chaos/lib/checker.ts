/**
 * After the run has settled: what the database, the cache and every buyer's history say, held to the
 * invariants of the contract plus the chaos run's own rules. Pure: it reads a snapshot, so each rule has a
 * test that shows it can fail.
 */
import type { History } from './buyers.ts';

export interface GoodAtRest {
  id: number;
  initialStock: number;
  /** Database stock. */
  stock: number;
  /** The cache's pre-stock, as the admin stats report it. */
  preStock: number;
  /** Reservations the cache still holds without a result. */
  queued: number;
  /** A sale with more units than buyers: no request may end FAIL. */
  spare: boolean;
}

export interface Snapshot {
  goods: GoodAtRest[];
  orders: { orderNo: string; uuid: string; userId: number; goodId: number; status: string; payDeadline: Date; paidAt?: Date; /** When its payment intent was opened: the pay was taken then. */ payStartedAt?: Date; price: number }[];
  results: { uuid: string; userId: number; goodId: number; status: string; orderNo: string | null; reason: string | null }[];
  payments: { orderNo: string; kind: 'CHARGE' | 'REFUND'; amount: number }[];
  openIntents: number;
  /** The payment provider's own books. */
  provider: { charged: number; refunded: number };
  /** The final answer of GET /api/seckill/results/:uuid for every queued request, asked after the run. */
  finalPolls: Map<string, { status: string; orderNo?: string; reason?: string }>;
  now: Date;
}

export interface CheckReport {
  violations: string[];
  figures: Record<string, number>;
}

const LIVE = new Set(['UNPAID', 'PAID']);
/** The answers to a buy that refuse it as documented (and 408/429, after which the buyer sends it again). */
const BUY_REFUSALS = new Set(['409 SOLD_OUT', '409 DUPLICATE_ORDER', '409 NOT_STARTED', '409 ENDED', '409 PAUSED', '408 INVALID_INPUT', '429 RATE_LIMITED']);


export function check(s: Snapshot, h: History): CheckReport {
  const v: string[] = [];
  const byGood = new Map(s.goods.map((g) => [g.id, g]));
  const resultOf = new Map(s.results.map((r) => [r.uuid, r]));
  const orderByNo = new Map(s.orders.map((o) => [o.orderNo, o]));

  // 1. Never oversold; 4. at rest the cache agrees with the database; no unit leaks either way.
  for (const g of s.goods) {
    const live = s.orders.filter((o) => o.goodId === g.id && LIVE.has(o.status)).length;
    if (live > g.initialStock) v.push(`good ${g.id}: ${live} live orders > initial stock ${g.initialStock} (oversold)`);
    if (g.stock < 0) v.push(`good ${g.id}: database stock ${g.stock} < 0`);
    if (g.stock + live !== g.initialStock) v.push(`good ${g.id}: stock ${g.stock} + live orders ${live} ≠ initial stock ${g.initialStock} (a unit leaked)`);
    if (g.preStock !== g.stock) v.push(`good ${g.id}: cache pre-stock ${g.preStock} ≠ database stock ${g.stock} at rest`);
    if (g.queued !== 0) v.push(`good ${g.id}: ${g.queued} reservations still held at rest`);
  }

  // 2. At most one live order per buyer and good.
  const liveKeys = new Map<string, number>();
  for (const o of s.orders) if (LIVE.has(o.status)) liveKeys.set(`${o.userId}/${o.goodId}`, (liveKeys.get(`${o.userId}/${o.goodId}`) ?? 0) + 1);
  for (const [key, n] of liveKeys) if (n > 1) v.push(`buyer/good ${key}: ${n} live orders`);

  // 3. Every QUEUED answer ends in exactly one result: what the buyer saw, the stored result and the final poll agree.
  let queued = 0;
  for (const r of h.requests) {
    if (!r.queued) continue;
    queued += 1;
    const stored = resultOf.get(r.uuid);
    const polled = s.finalPolls.get(r.uuid);
    if (!stored) v.push(`request ${r.uuid}: QUEUED but no stored result`);
    if (!polled || (polled.status !== 'SUCCESS' && polled.status !== 'FAIL')) v.push(`request ${r.uuid}: QUEUED but the result endpoint answers ${polled?.status ?? 'nothing'}`);
    const seen = [...r.finals, ...(polled && (polled.status === 'SUCCESS' || polled.status === 'FAIL') ? [{ via: 'check', ...polled }] : [])];
    const distinct = new Set(seen.map((f) => `${f.status}/${f.orderNo ?? ''}`));
    if (distinct.size > 1) v.push(`request ${r.uuid}: more than one result seen: ${[...distinct].join(', ')}`);
    if (stored && seen.some((f) => f.status !== stored.status || (f.orderNo ?? null) !== stored.orderNo)) {
      v.push(`request ${r.uuid}: a result seen (${[...distinct].join(', ')}) differs from the stored ${stored.status}/${stored.orderNo ?? ''}`);
    }
    if (stored && (stored.userId !== r.userId || stored.goodId !== r.goodId)) v.push(`request ${r.uuid}: stored result belongs to buyer ${stored.userId} good ${stored.goodId}`);
  }
  for (const r of s.results) {
    if (r.status !== 'SUCCESS') continue;
    const o = r.orderNo ? orderByNo.get(r.orderNo) : undefined;
    if (!o) v.push(`result ${r.uuid}: SUCCESS with order ${r.orderNo} that does not exist`);
    else if (o.uuid !== r.uuid || o.userId !== r.userId || o.goodId !== r.goodId) v.push(`result ${r.uuid}: order ${o.orderNo} belongs to another request`);
  }
  for (const o of s.orders) {
    const r = resultOf.get(o.uuid);
    if (!r || r.status !== 'SUCCESS' || r.orderNo !== o.orderNo) v.push(`order ${o.orderNo}: no SUCCESS result names it`);
  }

  // Only a documented refusal of a buy may come with a uuid that became an order (a repeat of a request
  // already taken is answered 409 DUPLICATE_ORDER or SOLD_OUT); any other 4xx told the buyer the request was
  // wrong or not theirs, so a live order behind it is one they do not know they hold.
  const orderOfUuid = new Map(s.orders.map((o) => [o.uuid, o]));
  for (const r of h.requests) {
    const o = orderOfUuid.get(r.uuid);
    if (!o) continue;
    const odd = r.answers.filter((a) => /^4\d\d/.test(a) && !BUY_REFUSALS.has(a));
    if (odd.length > 0) v.push(`request ${r.uuid}: answered ${odd.join(', ')}, yet it became order ${o.orderNo}`);
  }

  // With more units than buyers, no request ends FAIL.
  for (const r of s.results) {
    if (r.status === 'FAIL' && byGood.get(r.goodId)?.spare) v.push(`request ${r.uuid}: FAIL ${r.reason} in a sale with units to spare`);
  }

  // 5. No order left UNPAID past its deadline; a PAID order never closed; money matches the orders.
  // A payment that started before the deadline counts however late it ends (a frozen database can hold it
  // for longer than any request's deadline); one that started after it must never have been taken. (The api
  // reads its clock twice, for the check and for the intent: a few milliseconds apart.)
  for (const o of s.orders) {
    if (o.status !== 'PAID') continue;
    if (!o.payStartedAt) v.push(`order ${o.orderNo}: PAID without a payment intent`);
    else if (o.payStartedAt.getTime() > o.payDeadline.getTime() + 100) {
      v.push(`order ${o.orderNo}: paid by a payment that started ${((o.payStartedAt.getTime() - o.payDeadline.getTime()) / 1000).toFixed(1)} s after its pay deadline`);
    }
  }
  for (const o of s.orders) if (o.status === 'UNPAID' && o.payDeadline < s.now) v.push(`order ${o.orderNo}: still UNPAID ${((s.now.getTime() - o.payDeadline.getTime()) / 1000).toFixed(0)} s past its deadline`);
  const moneyOf = new Map<string, { charges: number; refunds: number }>();
  for (const p of s.payments) {
    const m = moneyOf.get(p.orderNo) ?? { charges: 0, refunds: 0 };
    if (p.kind === 'CHARGE') m.charges += 1;
    else m.refunds += 1;
    moneyOf.set(p.orderNo, m);
  }
  for (const o of s.orders) {
    const m = moneyOf.get(o.orderNo) ?? { charges: 0, refunds: 0 };
    const want = o.status === 'PAID' ? [1, 0] : o.status === 'REFUNDED' ? [1, 1] : [0, 0];
    if (m.charges !== want[0] || m.refunds !== want[1]) v.push(`order ${o.orderNo} (${o.status}): ${m.charges} charges, ${m.refunds} refunds recorded`);
  }
  const paidTotal = s.orders.filter((o) => o.status === 'PAID').reduce((a, o) => a + o.price, 0);
  const recorded = s.payments.reduce((a, p) => a + (p.kind === 'CHARGE' ? p.amount : -p.amount), 0);
  if (recorded !== paidTotal) v.push(`payments − refunds recorded = ${recorded} ≠ PAID total ${paidTotal}`);
  if (s.provider.charged - s.provider.refunded !== paidTotal) v.push(`provider: charged − refunded = ${s.provider.charged - s.provider.refunded} ≠ PAID total ${paidTotal}`);
  if (s.openIntents !== 0) v.push(`${s.openIntents} payment intents still open`);

  // What each buyer was told about a pay or cancel is what the database holds.
  for (const a of h.actions) {
    const o = orderByNo.get(a.orderNo);
    if (!a.outcome || !o) continue;
    if (a.kind === 'pay' && a.outcome.status === 200 && o.status !== 'PAID') v.push(`order ${a.orderNo}: pay answered PAID, database says ${o.status}`);
    if (a.kind === 'pay' && a.outcome.refunded === true && o.status !== 'REFUNDED') v.push(`order ${a.orderNo}: pay answered refunded, database says ${o.status}`);
    if (a.kind === 'cancel' && a.outcome.status === 200 && o.status !== 'CANCELLED') v.push(`order ${a.orderNo}: cancel answered CANCELLED, database says ${o.status}`);
  }
  for (const e of h.serverErrors) v.push(`server error: ${e}`);

  const count = (f: (o: Snapshot['orders'][number]) => boolean) => s.orders.filter(f).length;
  return {
    violations: v,
    figures: {
      requests: h.requests.length,
      queued,
      refused: h.requests.filter((r) => r.refused).length,
      retries: h.requests.reduce((a, r) => a + Math.max(0, r.answers.length - 1), 0),
      /** Presses whose connection was cut (a killed api) and that were then answered QUEUED under the same uuid. */
      queuedAfterCut: h.requests.filter((r) => r.queued && r.answers.some((a) => a.startsWith('network'))).length,
      results: s.results.length,
      fails: s.results.filter((r) => r.status === 'FAIL').length,
      orders: s.orders.length,
      paid: count((o) => o.status === 'PAID'),
      cancelled: count((o) => o.status === 'CANCELLED'),
      timedOut: count((o) => o.status === 'TIMEOUT'),
      refunded: count((o) => o.status === 'REFUNDED'),
      unpaid: count((o) => o.status === 'UNPAID'),
      pays: h.actions.filter((a) => a.kind === 'pay').length,
      cancels: h.actions.filter((a) => a.kind === 'cancel').length,
    },
  };
}
