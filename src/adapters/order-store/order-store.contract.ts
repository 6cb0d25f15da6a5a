/**
 * The one behaviour suite of the OrderStore (and the database under it), run on every engine (PGlite in process, PostgreSQL server).
 * One database per file; each test makes its own goods and users (fresh ids), so tests never see each other.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderStore } from '../../core/ports.ts';
import type { NewSeckillGood, OrderMessage, SeckillResult } from '../../core/model.ts';
import type { Database } from '../database/database.ts';
import { migrate } from '../database/migrate.ts';
import { createSqlOrderStore } from './sql-order-store.ts';
import { CANCEL, PAY, REFUND, TIMEOUT, chargeKey, refundKey } from '../../core/order-lifecycle.ts';

export type MakeDb = () => Promise<{ db: Database; cleanup: () => Promise<void> }>;

const NOW = new Date('2030-01-01T10:00:00.000Z');
const PAY_TIMEOUT_MS = 15 * 60_000;

/** Deterministic shuffle (mulberry32), so a failing race can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed;
  const random = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function describeOrderStore(label: string, makeDb: MakeDb): void {
  describe(`OrderStore on ${label}`, () => {
    let db: Database;
    let cleanup: (() => Promise<void>) | undefined;
    let store: OrderStore;
    const run = randomUUID().slice(0, 8);
    let seq = 0;

    beforeAll(async () => {
      ({ db, cleanup } = await makeDb());
      await migrate(db);
      store = createSqlOrderStore(db);
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const uniquePhone = () => `1${run}${String(++seq).padStart(6, '0')}`;
    const newUuid = () => `u-${randomUUID()}`;
    const makeOrderNo = () => `O${run}${String(++seq).padStart(9, '0')}`;
    const opts = (now = NOW) => ({ now, payTimeoutMs: PAY_TIMEOUT_MS, makeOrderNo });

    function goodSpec(overrides: Partial<NewSeckillGood> = {}): NewSeckillGood {
      return {
        name: `good ${++seq}`,
        title: 'A fine thing',
        imageUrl: '/img/1.png',
        price: 19_900,
        seckillPrice: 9_900,
        stock: 10,
        startAt: new Date('2030-01-01T09:00:00.000Z'),
        endAt: new Date('2030-01-01T12:00:00.000Z'),
        ...overrides,
      };
    }
    const newGood = (overrides: Partial<NewSeckillGood> = {}) => store.createGood(goodSpec(overrides));

    async function newBuyers(n: number): Promise<number[]> {
      const phones = Array.from({ length: n }, uniquePhone);
      const rows = await db.query<{ id: number }>(
        `INSERT INTO users (phone, nickname, password_hash, role)
         SELECT p, 'buyer', 'hash', 'user' FROM unnest($1::text[]) AS p RETURNING id`,
        [phones],
      );
      return rows.map((row) => row.id).sort((a, b) => a - b);
    }
    const newBuyer = async () => (await newBuyers(1))[0]!;
    const message = (userId: number, seckillGoodId: number, uuid = newUuid()): OrderMessage => ({
      uuid,
      userId,
      seckillGoodId,
      reservedAt: NOW.getTime(),
    });
    async function countOrders(seckillGoodId: number): Promise<number> {
      const [row] = await db.query<{ n: number }>('SELECT count(*) AS n FROM orders WHERE seckill_good_id = $1', [seckillGoodId]);
      return row!.n;
    }

    describe('database and migrations', () => {
      it('migrating an up-to-date database again → applies nothing', async () => {
        const before = await db.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
        expect(await migrate(db)).toEqual([]);
        expect(await db.query('SELECT count(*) AS n FROM schema_migrations')).toEqual(before);
        expect(before[0]!.n).toBeGreaterThanOrEqual(1);
      });

      it('a transaction that throws → rolled back, error rethrown', async () => {
        const phone = uniquePhone();
        await expect(
          db.transaction(async (tx) => {
            await tx.query(`INSERT INTO users (phone, nickname, password_hash, role) VALUES ($1, 'x', 'x', 'user')`, [phone]);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await db.query('SELECT id FROM users WHERE phone = $1', [phone])).toEqual([]);
      });

      it('BIGINT and COUNT values → JS numbers', async () => {
        const [row] = await db.query<{ big: unknown; n: unknown }>('SELECT 9007199254740991::bigint AS big, count(*) AS n FROM users');
        expect(typeof row!.big).toBe('number');
        expect(typeof row!.n).toBe('number');
      });
    });

    describe('goods', () => {
      it('a created good → returned with its id, full stock, and found by get and list', async () => {
        const spec = goodSpec({ stock: 7 });
        const good = await store.createGood(spec);
        expect(good).toEqual({ ...spec, id: expect.any(Number), initialStock: 7, stock: 7 });
        expect(await store.getGood(good.id)).toEqual(good);
        expect((await store.listGoods()).find((g) => g.id === good.id)).toEqual(good);
      });

      it('an unknown good → null from get and stats', async () => {
        expect(await store.getGood(987_654_321)).toBeNull();
        expect(await store.stats(987_654_321)).toBeNull();
      });
    });

    describe('createOrders', () => {
      it('one message with stock → order UNPAID with deadline, stock - 1, SUCCESS stored', async () => {
        const good = await newGood({ stock: 3 });
        const buyer = await newBuyer();
        const m = message(buyer, good.id);
        const [answer] = await store.createOrders([m], opts());
        expect(answer).toEqual({
          created: true,
          result: { uuid: m.uuid, userId: buyer, seckillGoodId: good.id, status: 'SUCCESS', orderNo: expect.any(String) },
        });
        const orderNo = answer!.result.orderNo!;
        expect(await store.getOrder(orderNo)).toEqual({
          orderNo,
          uuid: m.uuid,
          userId: buyer,
          seckillGoodId: good.id,
          goodName: good.name,
          seckillPrice: good.seckillPrice,
          status: 'UNPAID',
          createdAt: NOW,
          payDeadline: new Date(NOW.getTime() + PAY_TIMEOUT_MS),
        });
        expect((await store.getGood(good.id))!.stock).toBe(2);
        expect(await store.getResult(m.uuid)).toEqual(answer!.result);
        expect(await store.liveBuyers(good.id)).toEqual([buyer]);
      });

      it('no messages → no results', async () => {
        expect(await store.createOrders([], opts())).toEqual([]);
      });

      it('no stock left → FAIL SOLD_OUT stored, nothing created', async () => {
        const good = await newGood({ stock: 1 });
        const [first, second] = await newBuyers(2);
        await store.createOrders([message(first!, good.id)], opts());
        const m = message(second!, good.id);
        const [answer] = await store.createOrders([m], opts());
        const expected: SeckillResult = { uuid: m.uuid, userId: second!, seckillGoodId: good.id, status: 'FAIL', reason: 'SOLD_OUT' };
        expect(answer).toEqual({ created: true, result: expected });
        expect(await store.getResult(m.uuid)).toEqual(expected);
        expect((await store.getGood(good.id))!.stock).toBe(0);
        expect(await countOrders(good.id)).toBe(1);
      });

      it('an unknown good → FAIL NOT_FOUND stored', async () => {
        const m = message(await newBuyer(), 987_654_321);
        const [answer] = await store.createOrders([m], opts());
        expect(answer!.result).toMatchObject({ status: 'FAIL', reason: 'NOT_FOUND' });
        expect(await store.getResult(m.uuid)).toEqual(answer!.result);
      });

      it('the same uuid twice in one batch → one order; the repeat gets the same result, created false', async () => {
        const good = await newGood({ stock: 5 });
        const [a, b] = await newBuyers(2);
        const m = message(a!, good.id);
        const answers = await store.createOrders([m, message(b!, good.id), m], opts());
        expect(answers.map((x) => x.created)).toEqual([true, true, false]);
        expect(answers[2]!.result).toEqual(answers[0]!.result);
        expect(await countOrders(good.id)).toBe(2);
        expect((await store.getGood(good.id))!.stock).toBe(3);
      });

      it('the same uuid in two calls → one order; the second call returns the stored result, created false', async () => {
        const good = await newGood({ stock: 5 });
        const m = message(await newBuyer(), good.id);
        const [first] = await store.createOrders([m], opts());
        const [again] = await store.createOrders([m], opts());
        const [inBatch] = await store.createOrders([m, message(await newBuyer(), good.id)], opts());
        expect(again).toEqual({ result: first!.result, created: false });
        expect(inBatch).toEqual({ result: first!.result, created: false });
        expect(await countOrders(good.id)).toBe(2);
      });

      it('the same buyer with two uuids → one order, the other FAIL DUPLICATE_ORDER (one batch or two calls)', async () => {
        const good = await newGood({ stock: 5 });
        const buyer = await newBuyer();
        const answers = await store.createOrders([message(buyer, good.id), message(buyer, good.id)], opts());
        expect(answers.map((x) => x.result.status)).toEqual(['SUCCESS', 'FAIL']);
        expect(answers[1]!.result.reason).toBe('DUPLICATE_ORDER');
        const [later] = await store.createOrders([message(buyer, good.id)], opts());
        expect(later!.result).toMatchObject({ status: 'FAIL', reason: 'DUPLICATE_ORDER' });
        expect(await countOrders(good.id)).toBe(1);
        expect((await store.getGood(good.id))!.stock).toBe(4);
      });

      it('a buyer with a live order but no stock left → DUPLICATE_ORDER rather than SOLD_OUT', async () => {
        const good = await newGood({ stock: 1 });
        const buyer = await newBuyer();
        await store.createOrders([message(buyer, good.id)], opts());
        const [answer] = await store.createOrders([message(buyer, good.id)], opts());
        expect(answer!.result.reason).toBe('DUPLICATE_ORDER');
      });

      it('a stored uuid sent for another buyer → FAIL UUID_CONFLICT, kept apart for that buyer (conflictOf), created false', async () => {
        const good = await newGood();
        const [a, b] = await newBuyers(2);
        const m = message(a!, good.id);
        const [first] = await store.createOrders([m], opts());
        const [clash] = await store.createOrders([{ ...m, userId: b! }], opts());
        expect(clash).toEqual({
          created: false,
          result: { uuid: m.uuid, userId: b!, seckillGoodId: good.id, status: 'FAIL', reason: 'UUID_CONFLICT' },
        });
        expect(await store.getResult(m.uuid)).toEqual(first!.result);
        expect(await store.conflictOf(m.uuid, b!)).toEqual(clash!.result);
        expect(await store.conflictOf(m.uuid, a!)).toBeNull();
        // Delivered again: still one conflict, the same answer.
        expect((await store.createOrders([{ ...m, userId: b! }], opts()))[0]).toEqual(clash);
        expect(await store.conflictOf('no-such-uuid', b!)).toBeNull();
      });

      it('one uuid under two buyers in one call → the first decides, the other gets UUID_CONFLICT (either order)', async () => {
        const good = await newGood();
        const [a, b, c] = await newBuyers(3);
        const m = message(a!, good.id);
        const fresh = await store.createOrders([m, { ...m, userId: b! }, message(c!, good.id)], opts());
        expect(fresh.map((x) => [x.result.status, x.result.reason, x.created])).toEqual([
          ['SUCCESS', undefined, true],
          ['FAIL', 'UUID_CONFLICT', false],
          ['SUCCESS', undefined, true],
        ]);
        const again = await store.createOrders([{ ...m, userId: b! }, m], opts());
        expect(again).toEqual([
          { created: false, result: { uuid: m.uuid, userId: b!, seckillGoodId: good.id, status: 'FAIL', reason: 'UUID_CONFLICT' } },
          { created: false, result: fresh[0]!.result },
        ]);
        expect(await countOrders(good.id)).toBe(2);
      });

      it('a batch where one buyer already holds a live order → falls back, the others still get orders', async () => {
        const good = await newGood({ stock: 10 });
        const [holder, b, c] = await newBuyers(3);
        await store.createOrders([message(holder!, good.id)], opts());
        const answers = await store.createOrders([message(b!, good.id), message(holder!, good.id), message(c!, good.id)], opts());
        expect(answers.map((x) => x.result.status)).toEqual(['SUCCESS', 'FAIL', 'SUCCESS']);
        expect(answers[1]!.result.reason).toBe('DUPLICATE_ORDER');
        expect((await store.getGood(good.id))!.stock).toBe(7);
        expect(await store.liveBuyers(good.id)).toEqual([holder, b, c].sort((x, y) => x! - y!));
      });

      it('a batch larger than the stock → the first ones get orders, the rest SOLD_OUT', async () => {
        const good = await newGood({ stock: 3 });
        const buyers = await newBuyers(5);
        const answers = await store.createOrders(buyers.map((u) => message(u, good.id)), opts());
        expect(answers.map((x) => x.result.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'FAIL', 'FAIL']);
        expect(answers.slice(3).every((x) => x.result.reason === 'SOLD_OUT' && x.created)).toBe(true);
        expect((await store.getGood(good.id))!.stock).toBe(0);
      });

      it('messages for several goods in one call → results in input order', async () => {
        const [g1, g2] = [await newGood({ stock: 2 }), await newGood({ stock: 2 })];
        const [a, b] = await newBuyers(2);
        const ms = [message(a!, g1.id), message(a!, g2.id), message(b!, g1.id), message(b!, 987_654_321)];
        const answers = await store.createOrders(ms, opts());
        expect(answers.map((x) => x.result.uuid)).toEqual(ms.map((m) => m.uuid));
        expect(answers.map((x) => x.result.reason ?? x.result.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'NOT_FOUND']);
        expect((await store.getGood(g1.id))!.stock).toBe(0);
        expect((await store.getGood(g2.id))!.stock).toBe(1);
      });

      it('race: stock 50, 300 buyers, every message twice, many concurrent calls → exactly 50 orders, stock 0', async () => {
        const good = await newGood({ stock: 50 });
        const buyers = await newBuyers(300);
        const messages = buyers.map((u) => message(u, good.id));
        const sent = shuffled([...messages, ...messages], 42);
        const calls: OrderMessage[][] = [];
        for (let i = 0, size = 1; i < sent.length; i += size, size = (size % 40) + 1) calls.push(sent.slice(i, i + size));

        let watching = true;
        const seenStocks: number[] = [];
        const watcher = (async () => {
          while (watching) seenStocks.push((await store.getGood(good.id))!.stock);
        })();
        const answers = (await Promise.all(calls.map((batch) => store.createOrders(batch, opts())))).flat();
        watching = false;
        await watcher;

        expect(Math.min(...seenStocks)).toBeGreaterThanOrEqual(0);
        expect((await store.getGood(good.id))!.stock).toBe(0);
        expect(await countOrders(good.id)).toBe(50);
        expect((await store.liveBuyers(good.id)).length).toBe(50);
        const stored = await db.query<{ uuid: string; status: string }>('SELECT uuid, status FROM seckill_results WHERE seckill_good_id = $1', [good.id]);
        expect(stored.length).toBe(300);
        expect(new Set(stored.map((r) => r.uuid))).toEqual(new Set(messages.map((m) => m.uuid)));
        expect(stored.filter((r) => r.status === 'SUCCESS').length).toBe(50);
        // Each uuid was decided once, and both deliveries were told the stored outcome.
        expect(answers.filter((x) => x.created).length).toBe(300);
        expect(answers.filter((x) => x.created && x.result.status === 'SUCCESS').length).toBe(50);
        for (const m of messages.slice(0, 300)) {
          const mine = answers.filter((x) => x.result.uuid === m.uuid).map((x) => x.result);
          expect(mine).toEqual([await store.getResult(m.uuid), await store.getResult(m.uuid)]);
        }
      });
    });

    describe('order lifecycle', () => {
      async function ordersOf(n: number, stock = n) {
        const good = await newGood({ stock });
        const buyers = await newBuyers(n);
        const made = await store.createOrders(buyers.map((u) => message(u, good.id)), opts());
        return { good, orderNos: made.map((x) => x.result.orderNo!) };
      }
      const charge = (orderNo: string, amount = 9_900) => ({ orderNo, kind: 'CHARGE' as const, amount, providerRef: `pay_${orderNo}`, idempotencyKey: chargeKey(orderNo) });
      const stockOf = async (id: number) => (await store.getGood(id))!.stock;
      const paymentsOf = (orderNo: string) =>
        db.query<{ kind: string; amount_cents: number }>('SELECT kind, amount_cents FROM payments WHERE order_no = $1 ORDER BY id', [orderNo]);

      it('pay → PAID with paidAt and the charge recorded in the same transaction; stock unchanged', async () => {
        const { good, orderNos: [o] } = await ordersOf(1, 3);
        const at = new Date('2030-01-01T10:01:00.000Z');
        const changed = await store.applyTransition([o!], PAY, at, { payment: charge(o!) });
        expect(changed).toEqual([expect.objectContaining({ orderNo: o, status: 'PAID', paidAt: at })]);
        expect(changed[0]!.closedAt).toBeUndefined();
        expect(await paymentsOf(o!)).toEqual([{ kind: 'CHARGE', amount_cents: 9_900 }]);
        expect(await stockOf(good.id)).toBe(2);
      });

      it('cancel and timeout → closed with closedAt, the unit back in stock; closing again changes nothing', async () => {
        const { good, orderNos: [a, b] } = await ordersOf(2);
        expect(await stockOf(good.id)).toBe(0);
        const at = new Date('2030-01-01T10:02:00.000Z');
        expect((await store.applyTransition([a!], CANCEL, at)).map((o) => [o.status, o.closedAt])).toEqual([['CANCELLED', at]]);
        expect((await store.applyTransition([b!], TIMEOUT, at)).map((o) => o.status)).toEqual(['TIMEOUT']);
        expect(await stockOf(good.id)).toBe(2);
        expect(await store.applyTransition([a!, b!], CANCEL, at)).toEqual([]);
        expect(await store.applyTransition([a!, b!], TIMEOUT, at)).toEqual([]);
        expect(await stockOf(good.id)).toBe(2);
      });

      it('closing a batch returns exactly the orders it changed, and the stock of those only', async () => {
        const { good, orderNos } = await ordersOf(6);
        await store.applyTransition([orderNos[0]!], PAY, NOW, { payment: charge(orderNos[0]!) });
        await store.applyTransition([orderNos[1]!], CANCEL, NOW);
        const changed = await store.applyTransition([...orderNos, 'NO-SUCH-ORDER'], TIMEOUT, NOW);
        expect(changed.map((o) => o.orderNo).sort()).toEqual(orderNos.slice(2).sort());
        expect(await stockOf(good.id)).toBe(5);
      });

      it('onlyDueBy → only orders whose pay deadline has passed close', async () => {
        const good = await newGood({ stock: 2 });
        const [a, b] = await newBuyers(2);
        const [early] = await store.createOrders([message(a!, good.id)], opts(NOW));
        const [late] = await store.createOrders([message(b!, good.id)], opts(new Date(NOW.getTime() + 60_000)));
        const dueBy = new Date(NOW.getTime() + PAY_TIMEOUT_MS + 1);
        const changed = await store.applyTransition([early!.result.orderNo!, late!.result.orderNo!], TIMEOUT, dueBy, { onlyDueBy: dueBy });
        expect(changed.map((o) => o.orderNo)).toEqual([early!.result.orderNo]);
      });

      it('pay racing cancel and timeout on one order, 30 times → exactly one winner each; stock adds up; each charge recorded once', async () => {
        const { good, orderNos } = await ordersOf(30);
        const outcomes = await Promise.all(
          orderNos.map(async (o, i) => {
            const contenders = shuffled([PAY, CANCEL, TIMEOUT], i).map((t) =>
              store.applyTransition([o], t, NOW, t === PAY ? { payment: charge(o) } : {}).then((changed) => (changed.length ? t.to : null)),
            );
            return (await Promise.all(contenders)).filter(Boolean);
          }),
        );
        expect(outcomes.every((w) => w.length === 1)).toBe(true);
        const paid = outcomes.filter((w) => w[0] === 'PAID').length;
        expect(await stockOf(good.id)).toBe(30 - paid);
        const [row] = await db.query<{ n: number }>(
          `SELECT count(*) AS n FROM payments WHERE order_no = ANY($1) AND kind = 'CHARGE'`,
          [orderNos],
        );
        // The money was taken whichever transition won: each charge is recorded once (the pay use case refunds a loser).
        expect(row!.n).toBe(30);
      });

      it('refund → only a closed order becomes REFUNDED; a payment is recorded once however often it is reported', async () => {
        const { good, orderNos: [a, b] } = await ordersOf(2);
        await store.applyTransition([a!], TIMEOUT, NOW);
        await store.recordPayment(charge(a!));
        await store.recordPayment(charge(a!));
        const refund = { orderNo: a!, kind: 'REFUND' as const, amount: 9_900, providerRef: `rfd_${a}`, idempotencyKey: refundKey(a!) };
        expect((await store.applyTransition([a!, b!], REFUND, NOW, { payment: refund })).map((o) => [o.orderNo, o.status])).toEqual([[a, 'REFUNDED']]);
        await store.recordPayment(refund);
        expect(await paymentsOf(a!)).toEqual([{ kind: 'CHARGE', amount_cents: 9_900 }, { kind: 'REFUND', amount_cents: 9_900 }]);
        expect((await store.getOrder(b!))!.status).toBe('UNPAID');
        expect(await stockOf(good.id)).toBe(1);
      });

      it('overdueOrders → UNPAID orders past their deadline, oldest deadline first, up to the limit', async () => {
        const good = await newGood({ stock: 3 });
        const [a, b, c] = await newBuyers(3);
        const t0 = new Date('2031-06-01T00:00:00.000Z');
        const at = (ms: number) => new Date(t0.getTime() + ms);
        const [second] = await store.createOrders([message(a!, good.id)], opts(at(1000)));
        const [first] = await store.createOrders([message(b!, good.id)], opts(at(0)));
        const [paid] = await store.createOrders([message(c!, good.id)], opts(at(0)));
        await store.applyTransition([paid!.result.orderNo!], PAY, at(10), { payment: charge(paid!.result.orderNo!) });
        const ours = async (now: Date, limit: number) =>
          (await store.overdueOrders(now, limit)).map((o) => o.orderNo).filter((no) => no === first!.result.orderNo || no === second!.result.orderNo);
        expect(await ours(at(PAY_TIMEOUT_MS - 1), 10_000)).toEqual([]);
        expect(await ours(at(PAY_TIMEOUT_MS + 1000), 10_000)).toEqual([first!.result.orderNo, second!.result.orderNo]);
      });

      it('decideFail and createOrders on one uuid → the first decision stands, whichever it is', async () => {
        const good = await newGood({ stock: 5 });
        const [a, b] = await newBuyers(2);
        const failedFirst = message(a!, good.id);
        const expired = await store.decideFail(failedFirst, 'EXPIRED');
        expect(expired).toMatchObject({ uuid: failedFirst.uuid, status: 'FAIL', reason: 'EXPIRED' });
        const [late] = await store.createOrders([failedFirst], opts());
        expect(late).toEqual({ result: expired, created: false });
        expect(await stockOf(good.id)).toBe(5);

        const madeFirst = message(b!, good.id);
        const [made] = await store.createOrders([madeFirst], opts());
        expect(await store.decideFail(madeFirst, 'EXPIRED')).toEqual(made!.result);
        expect((await store.getResult(madeFirst.uuid))!.status).toBe('SUCCESS');
      });

      it('decideFail racing createOrders on 40 uuids → one stored result each, and an order exactly for each SUCCESS', async () => {
        const good = await newGood({ stock: 40 });
        const buyers = await newBuyers(40);
        const messages = buyers.map((u) => message(u, good.id));
        const [fails, made] = await Promise.all([
          Promise.all(messages.map((m) => store.decideFail(m, 'EXPIRED'))),
          Promise.all(messages.map((m) => store.createOrders([m], opts()))),
        ]);
        for (let i = 0; i < messages.length; i++) {
          const stored = await store.getResult(messages[i]!.uuid);
          expect(stored).toEqual(fails[i]);
          expect(made[i]![0]!.result).toEqual(stored);
        }
        const successes = fails.filter((r) => r.status === 'SUCCESS').length;
        expect(await countOrders(good.id)).toBe(successes);
        expect(await stockOf(good.id)).toBe(40 - successes);
      });
    });

    describe('reads', () => {
      it('stats → stock and a count for every status (0 when none)', async () => {
        const good = await newGood({ stock: 5 });
        const buyers = await newBuyers(2);
        await store.createOrders(buyers.map((u) => message(u, good.id)), opts());
        expect(await store.stats(good.id)).toEqual({
          stock: 3,
          orders: { UNPAID: 2, PAID: 0, CANCELLED: 0, TIMEOUT: 0, REFUNDED: 0 },
        });
      });

      it("listOrders → the buyer's own orders only, newest first", async () => {
        const [g1, g2] = [await newGood(), await newGood()];
        const [buyer, other] = await newBuyers(2);
        const [older] = await store.createOrders([message(buyer!, g1.id)], opts(new Date(NOW.getTime() - 60_000)));
        const [newer] = await store.createOrders([message(buyer!, g2.id)], opts());
        await store.createOrders([message(other!, g1.id)], opts());
        const list = await store.listOrders(buyer!);
        expect(list.map((o) => o.orderNo)).toEqual([newer!.result.orderNo, older!.result.orderNo]);
        expect(list.every((o) => o.userId === buyer)).toBe(true);
        expect(list[0]).toMatchObject({ goodName: g2.name, seckillPrice: g2.seckillPrice, status: 'UNPAID' });
      });

      it('getOrder and getResult of unknown keys → null', async () => {
        expect(await store.getOrder('NO-SUCH-ORDER')).toBeNull();
        expect(await store.getResult('no-such-uuid')).toBeNull();
        expect(await store.listOrders(987_654_321)).toEqual([]);
      });

      it('getResults → the stored results of the uuids that have one, in one read; none asked → none', async () => {
        const good = await newGood({ stock: 1 });
        const [a, b] = await newBuyers(2);
        const [ma, mb] = [message(a!, good.id), message(b!, good.id)];
        const decided = (await store.createOrders([ma, mb], opts())).map((x) => x.result);
        const found = await store.getResults([mb.uuid, 'no-such-uuid', ma.uuid, mb.uuid]);
        expect([...found].sort((x, y) => x.uuid.localeCompare(y.uuid))).toEqual([...decided].sort((x, y) => x.uuid.localeCompare(y.uuid)));
        expect(await store.getResults(['no-such-uuid'])).toEqual([]);
        expect(await store.getResults([])).toEqual([]);
      });

      it('payment intents: opened once per order, listed while open and old enough, gone once settled', async () => {
        const good = await newGood({ stock: 2 });
        const buyers = await newBuyers(2);
        const [a, b] = (await store.createOrders(buyers.map((u) => message(u, good.id)), opts())).map((x) => x.result.orderNo!);
        const intent = (orderNo: string) => ({ orderNo, amount: 990, idempotencyKey: `charge:${orderNo}` });
        await Promise.all([store.openPaymentIntent(intent(a!), NOW), store.openPaymentIntent(intent(a!), NOW), store.openPaymentIntent(intent(b!), NOW)]);
        const ours = async (openedBy = NOW) => (await store.openPaymentIntents(openedBy, 1000)).filter((i) => i.orderNo === a || i.orderNo === b);
        expect((await ours()).sort((x, y) => x.orderNo.localeCompare(y.orderNo))).toEqual([intent(a!), intent(b!)].sort((x, y) => x.orderNo.localeCompare(y.orderNo)));
        // Opened at NOW by the caller's clock, whatever the database's own clock says.
        expect(await ours(new Date(NOW.getTime() - 1))).toEqual([]);
        await store.settlePaymentIntent(a!, new Date());
        await store.settlePaymentIntent(a!, new Date());
        expect(await ours()).toEqual([intent(b!)]);
        // Settled (abandoned), then paid again: open again, as of its new opening.
        const later = new Date(NOW.getTime() + 60_000);
        await store.openPaymentIntent(intent(a!), later);
        expect(await ours()).toEqual([intent(b!)]);
        expect((await ours(later)).map((i) => i.orderNo).sort()).toEqual([a!, b!].sort());
      });

      it('liveOrderNos → the UNPAID and PAID ones of the given orders; closed and unknown ones left out', async () => {
        const good = await newGood({ stock: 3 });
        const buyers = await newBuyers(3);
        const made = await store.createOrders(buyers.map((u) => message(u, good.id)), opts());
        const [a, b, c] = made.map((x) => x.result.orderNo!);
        await store.applyTransition([b!], CANCEL, new Date());
        expect(await store.liveOrderNos([a!, b!, c!, 'NO-SUCH-ORDER'])).toEqual(new Set([a, c]));
        expect(await store.liveOrderNos([])).toEqual(new Set());
      });
    });
  });
}
