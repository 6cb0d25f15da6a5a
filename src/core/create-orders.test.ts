import { describe, expect, it } from 'vitest';
import { makeOrderNo } from './create-orders.ts';

describe('order numbers', () => {
  it('are 19 base36 characters, sort by their millisecond, and do not repeat', () => {
    const t = Date.UTC(2026, 11, 1);
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(makeOrderNo(t));
    expect(seen.size).toBe(20_000);
    for (const no of seen) expect(no).toMatch(/^[0-9A-Z]{19}$/);
    expect(makeOrderNo(t) < makeOrderNo(t + 1)).toBe(true);
  });

  it('use every base36 digit in the random part, roughly evenly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 5000; i++) for (const c of makeOrderNo(0).slice(9)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(36);
    // 50,000 draws over 36 digits: ~1,389 each; a skew from a modulo bias or a stuck pool shows far outside this.
    for (const n of counts.values()) expect(n).toBeGreaterThan(1100);
  });
});
