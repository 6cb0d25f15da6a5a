/** One behaviour suite for every OnceClaims: run by the memory and the Redis adapter alike. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OnceClaims } from '../../core/ports/once-claims.ts';

export function describeOnceClaims(label: string, fresh: () => OnceClaims): void {
  const key = () => `k${randomBytes(6).toString('hex')}`;
  const inAMinute = () => new Date(Date.now() + 60_000);

  describe(`OnceClaims contract (${label})`, () => {
    it('the first holder keeps the key: it is told itself again, another holder is told the first', async () => {
      const claims = fresh();
      const k = key();
      expect(await claims.claim(k, 'uuid-first', inAMinute())).toBe('uuid-first');
      expect(await claims.claim(k, 'uuid-first', inAMinute())).toBe('uuid-first');
      expect(await claims.claim(k, 'uuid-other', inAMinute())).toBe('uuid-first');
      expect(await claims.claim(key(), 'uuid-other', inAMinute())).toBe('uuid-other');
    });

    it('of two hundred claims of one key at once, exactly one holder wins and every caller is told that one', async () => {
      const claims = fresh();
      const k = key();
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => claims.claim(k, `uuid-${i}`, inAMinute())));
      expect(new Set(answers).size).toBe(1);
      expect(answers[0]).toMatch(/^uuid-\d+$/);
    });

    it('an expired claim frees its key for the next holder', async () => {
      const claims = fresh();
      const k = key();
      expect(await claims.claim(k, 'uuid-first', new Date(Date.now() + 50))).toBe('uuid-first');
      // Asked until the key is free (no fixed wait): the next holder then keeps it.
      let answer = 'uuid-first';
      for (let i = 0; i < 1000 && answer === 'uuid-first'; i++) {
        await new Promise((r) => setTimeout(r, 10));
        answer = await claims.claim(k, 'uuid-next', inAMinute());
      }
      expect(answer).toBe('uuid-next');
      expect(await claims.claim(k, 'uuid-first', inAMinute())).toBe('uuid-next');
    });
  });
}
