/** One behaviour suite for every Limiter: run by the memory and the Redis adapter alike. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MakeLimiter } from '../../core/ports/limiter.ts';

export function describeLimiter(label: string, fresh: () => MakeLimiter): void {
  const name = () => `t${randomBytes(4).toString('hex')}`;

  describe(`Limiter contract (${label})`, () => {
    it('allows `points` events per window and refuses the next with a wait within the window', async () => {
      const limiter = fresh()({ name: name(), points: 3, durationSeconds: 60 });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await limiter.take('a'));
      expect(answers.map((a) => a.wait === 0)).toEqual([true, true, true, false]);
      expect(answers.map((a) => a.count)).toEqual([1, 2, 3, 4]);
      expect(answers[3]!.wait).toBeGreaterThanOrEqual(1);
      expect(answers[3]!.wait).toBeLessThanOrEqual(60);
    });

    it('counts each key apart, and each limit name apart', async () => {
      const make = fresh();
      const n = name();
      const one = make({ name: n, points: 1, durationSeconds: 60 });
      const other = make({ name: `${n}x`, points: 1, durationSeconds: 60 });
      expect((await one.take('k')).wait).toBe(0);
      expect((await one.take('k')).wait).toBeGreaterThan(0);
      expect((await one.take('k2')).wait).toBe(0);
      expect((await other.take('k')).wait).toBe(0);
    });

    it('with many concurrent events on one key, exactly `points` are allowed', async () => {
      const limiter = fresh()({ name: name(), points: 7, durationSeconds: 60 });
      const answers = await Promise.all(Array.from({ length: 40 }, () => limiter.take('hot')));
      expect(answers.filter((a) => a.wait === 0)).toHaveLength(7);
    });

    it('a blocked key is refused and reports its wait; a reset frees it', async () => {
      const limiter = fresh()({ name: name(), points: 5, durationSeconds: 60 });
      expect(await limiter.waitOf('b')).toBe(0);
      await limiter.take('b');
      expect(await limiter.waitOf('b')).toBe(0);
      await limiter.block('b', 120);
      const wait = await limiter.waitOf('b');
      expect(wait).toBeGreaterThan(60);
      expect(wait).toBeLessThanOrEqual(120);
      expect((await limiter.take('b')).wait).toBeGreaterThan(0);
      await limiter.reset('b');
      expect(await limiter.waitOf('b')).toBe(0);
      expect(await limiter.take('b')).toEqual({ wait: 0, count: 1 });
    });

    it('countOf reads the count of a key without counting', async () => {
      const limiter = fresh()({ name: name(), points: 2, durationSeconds: 60 });
      expect(await limiter.countOf('c')).toEqual({ count: 0, seconds: 0 });
      await limiter.take('c');
      const once = await limiter.countOf('c');
      expect(once.count).toBe(1);
      expect(once.seconds).toBeGreaterThanOrEqual(1);
      expect(once.seconds).toBeLessThanOrEqual(60);
      expect((await limiter.countOf('c')).count).toBe(1);
      expect((await limiter.countOf('other')).count).toBe(0);
      await limiter.reset('c');
      expect(await limiter.countOf('c')).toEqual({ count: 0, seconds: 0 });
    });

    it('keys with odd characters (addresses, braces) are counted like any other', async () => {
      const limiter = fresh()({ name: name(), points: 1, durationSeconds: 60 });
      for (const key of ['::ffff:10.0.0.1', '13800000000|::1', 'a{b}c']) {
        expect((await limiter.take(key)).wait).toBe(0);
        expect((await limiter.take(key)).wait).toBeGreaterThan(0);
      }
    });
  });
}
