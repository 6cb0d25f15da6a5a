/**
 * The one behaviour suite of the OrderStore (and the database under it), run on every engine (PGlite in process, PostgreSQL server).
 * One database per file; each test makes its own goods and users (fresh ids), so tests never see each other.
 * Part one: the database, goods and createOrders; part two (order-store-lifecycle.contract.ts): the lifecycle and reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderStore } from '../../core/ports/order-store.ts';
import type { OrderMessage, SeckillResult } from '../../core/model.ts';
import type { Database } from '../database/database.ts';
import { migrate } from '../database/migrate.ts';
import { createSqlOrderStore } from './sql-order-store.ts';
import { describeOrderLifecycle } from './order-store-lifecycle.contract.ts';
import { NOW, PAY_TIMEOUT_MS, orderStoreFixture, shuffled, type MakeDb } from './order-store.fixture.ts';

export type { MakeDb } from './order-store.fixture.ts';

export function describeOrderStore(label: string, makeDb: MakeDb): void {
  describe(`OrderStore on ${label}`, () => {
    let db: Database;
    let cleanup: (() => Promise<void>) | undefined;
    let store: OrderStore;

    beforeAll(async () => {
      ({ db, cleanup } = await makeDb());
      await migrate(db);
      store = createSqlOrderStore(db);
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const { uniquePhone, opts, goodSpec, newGood, newBuyers, newBuyer, message, countOrders } = orderStoreFixture(() => db, (good) => store.createGood(good));

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
        expect(good).toEqual({ ...spec, id: expect.any(Number), initialStock: 7, stock: 7, paused: false, revision: 1 });
        expect(await store.getGood(good.id)).toEqual(good);
        expect((await store.listGoods()).find((g) => g.id === good.id)).toEqual(good);
      });

      it('an edit changes only the fields given and raises the revision; before its start only while the start is still ahead', async () => {
        const good = await newGood();
        const beforeStart = new Date(good.startAt.getTime() - 1);
        const edited = await store.editGood(good.id, { seckillPrice: 5_000, name: 'renamed' }, { onlyBefore: beforeStart });
        expect(edited).toEqual({ ...good, seckillPrice: 5_000, name: 'renamed', revision: 2 });
        expect(await store.getGood(good.id)).toEqual(edited);
        // At (or after) the start the conditional edit changes nothing.
        expect(await store.editGood(good.id, { price: 1 }, { onlyBefore: good.startAt })).toBeNull();
        const ended = await store.editGood(good.id, { endAt: new Date(good.startAt.getTime() + 1) }, {});
        expect(ended).toMatchObject({ price: good.price, endAt: new Date(good.startAt.getTime() + 1), revision: 3 });
        expect(await store.editGood(987_654_321, { name: 'x' }, {})).toBeNull();
      });

      it('pause and resume → the flag stored, the revision raised each time; an unknown good → null', async () => {
        const good = await newGood();
        expect(await store.setPaused(good.id, true)).toEqual({ ...good, paused: true, revision: 2 });
        expect((await store.listGoods()).find((g) => g.id === good.id)).toMatchObject({ paused: true });
        expect(await store.setPaused(good.id, false)).toEqual({ ...good, paused: false, revision: 3 });
        expect(await store.setPaused(987_654_321, true)).toBeNull();
      });

      it('added stock grows stock and initial stock by exactly the units, also when sold out; not after the end', async () => {
        const good = await newGood({ stock: 1 });
        await store.createOrders([message(await newBuyer(), good.id)], opts());
        expect(await store.addStock(good.id, 4, { endsAfter: good.startAt })).toMatchObject({ stock: 4, initialStock: 5, revision: 1 });
        expect(await store.addStock(good.id, 4, { endsAfter: good.endAt })).toBeNull();
        expect(await store.getGood(good.id)).toMatchObject({ stock: 4, initialStock: 5 });
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

    describeOrderLifecycle({ db: () => db, store: () => store });
  });
}
