/** The StockCache contract, request notes: what the result poll asks before any database read. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StockCache } from '../../core/ports/stock-cache.ts';

const DAY_MS = 24 * 3_600_000;

export function describeRequestNotes(engine: { cache: () => StockCache }): void {
  describe('request notes', () => {
    const fresh = () => `n-${randomUUID()}`;

    // One test: completeness is one mark per cache, and this suite's cache starts without it.
    it('before the mark a lookup answers null (ask the database); after it: [] for a uuid never noted, the notes of one noted', async () => {
      const cache = engine.cache();
      const [a, b] = [fresh(), fresh()];
      await cache.noteRequests([{ uuid: a, seckillGoodId: 7, userId: 70 }], DAY_MS);
      expect(await cache.requestsOf(a, DAY_MS)).toBeNull();
      expect(await cache.requestNotesComplete()).toBe(false);
      await cache.markRequestNotesComplete();
      await cache.markRequestNotesComplete();
      expect(await cache.requestNotesComplete()).toBe(true);
      expect(await cache.requestsOf(a, DAY_MS)).toEqual([{ uuid: a, seckillGoodId: 7, userId: 70 }]);
      expect(await cache.requestsOf(b, DAY_MS)).toEqual([]);
    });

    it('one uuid noted for two goods and buyers, and again: each note once', async () => {
      const cache = engine.cache();
      await cache.markRequestNotesComplete();
      const u = fresh();
      await cache.noteRequests([{ uuid: u, seckillGoodId: 1, userId: 10 }, { uuid: u, seckillGoodId: 2, userId: 20 }], DAY_MS);
      await cache.noteRequests([{ uuid: u, seckillGoodId: 1, userId: 10 }], DAY_MS);
      const notes = (await cache.requestsOf(u, DAY_MS))!.sort((x, y) => x.seckillGoodId - y.seckillGoodId);
      expect(notes).toEqual([{ uuid: u, seckillGoodId: 1, userId: 10 }, { uuid: u, seckillGoodId: 2, userId: 20 }]);
    });

    it('500 uuids noted in one call, all found; none of them leaks into another uuid', async () => {
      const cache = engine.cache();
      await cache.markRequestNotesComplete();
      const uuids = Array.from({ length: 500 }, fresh);
      await cache.noteRequests(uuids.map((uuid, i) => ({ uuid, seckillGoodId: 3, userId: i })), DAY_MS);
      const found = await Promise.all(uuids.map((u) => cache.requestsOf(u, DAY_MS)));
      expect(found.map((f) => f!.map((n) => n.userId))).toEqual(uuids.map((_, i) => [i]));
      expect(await cache.requestsOf(fresh(), DAY_MS)).toEqual([]);
      await cache.noteRequests([], DAY_MS);
    });

    it('the notes of one uuid made in two calls (a reuse: another good and buyer) are both kept', async () => {
      const cache = engine.cache();
      await cache.markRequestNotesComplete();
      const u = fresh();
      await cache.noteRequests([{ uuid: u, seckillGoodId: 1, userId: 10 }], DAY_MS);
      await cache.noteRequests([{ uuid: u, seckillGoodId: 2, userId: 20 }, { uuid: u, seckillGoodId: 1, userId: 10 }], DAY_MS);
      expect((await cache.requestsOf(u, DAY_MS))!.map((n) => n.userId).sort()).toEqual([10, 20]);
    });

    it('a note expires `keepMs` after it was last made', async () => {
      const cache = engine.cache();
      await cache.markRequestNotesComplete();
      const u = fresh();
      await cache.noteRequests([{ uuid: u, seckillGoodId: 1, userId: 1 }], 30);
      // Waits for the expiry itself (a condition, not a guess at how long it takes).
      for (let i = 0; i < 1000 && (await cache.requestsOf(u, 30))!.length > 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(await cache.requestsOf(u, 30)).toEqual([]);
    });
  });
}
