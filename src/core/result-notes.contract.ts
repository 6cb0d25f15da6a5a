/**
 * Polling a result (`lookUpResult`) with the cache's request notes, counted at the ports: run on PGlite with
 * the memory cache and on PostgreSQL with Redis. A uuid never accepted costs one cache call and no database
 * read; a request accepted through the api's batcher is found while QUEUED and once decided; a cache that
 * lost its notes answers from the database until they are refilled from it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counting } from '../../test/support/counting.ts';
import { PAY_TIMEOUT_MS, fakeClock, newBuyers, newGood, recordingBus } from '../../test/support/in-process.ts';
import type { Database } from '../adapters/database/database.ts';
import { createOrders } from './create-orders.ts';
import { createOrderBatcher } from './order-batcher.ts';
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';
import { refillRequestNotes } from './request-notes.ts';
import { lookUpResult, type ResultLookupDeps } from './results.ts';
import { systemTimers } from '../adapters/timers/system-timers.ts';

export type MakePollWorld = () => Promise<{ db: Database; store: OrderStore; cache: () => StockCache; cleanup: () => Promise<void> }>;

const KEEP_MS = 3_600_000;

export function describeResultPolling(label: string, make: MakePollWorld): void {
  describe(`polling results with request notes on ${label}`, () => {
    let world: Awaited<ReturnType<MakePollWorld>>;
    beforeAll(async () => {
      world = await make();
    });
    afterAll(() => world.cleanup());

    async function sale(opts: { refilled?: boolean } = {}) {
      const clock = fakeClock();
      const rawCache = world.cache();
      if (opts.refilled ?? true) await refillRequestNotes({ store: world.store, cache: rawCache, clock, keepMs: KEEP_MS });
      const store = counting(world.store);
      const cache = counting(rawCache);
      const bus = recordingBus();
      const good = await newGood(world.store, clock.now(), { stock: 5 });
      await rawCache.load(good.id, 5, [], { onlyIfMissing: false });
      const [a, b] = await newBuyers(world.db, 2);
      // Goods the catalog would list: many, so that asking each of them would show in the counts.
      const deps: ResultLookupDeps = { store: store.port, cache: cache.port, goodIds: async () => [good.id, ...Array.from({ length: 20 }, (_, i) => 900_000 + i)], noteKeepMs: KEEP_MS };
      const batcher = createOrderBatcher({ bus, cache: rawCache, timers: systemTimers }, { maxOrders: 100, maxWaitMs: 0, noteKeepMs: KEEP_MS });
      const accept = async (userId: number) => {
        const uuid = `r-${randomUUID()}`;
        const now = clock.now().getTime();
        expect(await rawCache.reserve(good.id, userId, uuid, now)).toMatchObject({ kind: 'RESERVED' });
        await batcher.publish({ uuid, userId, seckillGoodId: good.id, reservedAt: now }, { releaseOnFailure: true });
        return uuid;
      };
      const decide = () => createOrders({ store: world.store, cache: rawCache, bus, clock, payTimeoutMs: PAY_TIMEOUT_MS, noteKeepMs: KEEP_MS }, bus.sent.orders.flat());
      const reset = () => (store.reset(), cache.reset());
      return { clock, store, cache, rawCache, good, a: a!, b: b!, deps, accept, decide, reset };
    }

    it('1,000 polls of uuids never accepted → one cache call each, no database read, nothing found', async () => {
      const { store, cache, deps, a, reset } = await sale();
      reset();
      const answers = await Promise.all(Array.from({ length: 1000 }, () => lookUpResult(deps, { userId: a, uuid: `nobody-${randomUUID()}` })));
      expect(answers.every((x) => x === null)).toBe(true);
      expect(store.total()).toBe(0);
      expect(cache.calls).toEqual({ requestsOf: 1000 });
    });

    it('accepted through the batcher → QUEUED (one good asked, not the catalog); decided → its result; another buyer → nothing, no database read', async () => {
      const { store, cache, deps, a, b, accept, decide, reset } = await sale();
      const uuid = await accept(a);
      reset();
      expect(await lookUpResult(deps, { userId: a, uuid })).toEqual({ uuid, status: 'QUEUED' });
      expect(cache.calls).toEqual({ requestsOf: 1, reservationOf: 1 });
      await decide();
      expect(await lookUpResult(deps, { userId: a, uuid })).toMatchObject({ uuid, status: 'SUCCESS', orderNo: expect.any(String) });
      // Named with another good, the buyer's own result still answers (as before notes).
      expect(await lookUpResult(deps, { userId: a, uuid, seckillGoodId: 999_999 })).toMatchObject({ uuid, status: 'SUCCESS' });
      reset();
      expect(await lookUpResult(deps, { userId: b, uuid })).toBeNull();
      expect(store.total()).toBe(0);
      expect(cache.total()).toBe(1);
    });

    it('a cache that lost its notes: the database answers (a decided result still found) until a refill, then unknown uuids cost no read again', async () => {
      const first = await sale();
      const uuid = await first.accept(first.a);
      await first.decide();
      // The same database, a cache with no notes (a restart, a flushed Redis).
      const { store, cache, deps, rawCache, clock, reset } = await sale({ refilled: false });
      reset();
      expect(await lookUpResult(deps, { userId: first.a, uuid })).toMatchObject({ status: 'SUCCESS' });
      expect(await lookUpResult(deps, { userId: first.a, uuid: `nobody-${randomUUID()}` })).toBeNull();
      expect(store.total()).toBeGreaterThan(0);
      expect(await refillRequestNotes({ store: world.store, cache: rawCache, clock, keepMs: KEEP_MS })).toBeGreaterThan(0);
      expect(await refillRequestNotes({ store: world.store, cache: rawCache, clock, keepMs: KEEP_MS })).toBeNull();
      reset();
      expect(await lookUpResult(deps, { userId: first.a, uuid })).toMatchObject({ status: 'SUCCESS' });
      expect(await lookUpResult(deps, { userId: first.a, uuid: `nobody-${randomUUID()}` })).toBeNull();
      expect(store.calls).toEqual({ getResult: 1 });
      expect(cache.calls).toEqual({ requestsOf: 2 });
    });
  });
}
