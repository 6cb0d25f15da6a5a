import { describe, expect, it } from 'vitest';
import { BUY_PATH_TTL_S, createBuyPaths } from './buy-path.ts';

describe('buy paths', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const paths = createBuyPaths('s'.repeat(32));

  it('a path checks for its buyer and sale until it expires', () => {
    const { path, expiresAt } = paths.issue(7, 3, now);
    expect(expiresAt.getTime() - now.getTime()).toBe(BUY_PATH_TTL_S * 1000);
    expect(paths.check(path, 7, 3, now)).toBe(true);
    expect(paths.check(path, 7, 3, new Date(expiresAt.getTime() - 1))).toBe(true);
    expect(paths.check(path, 7, 3, expiresAt)).toBe(false);
  });

  it("another buyer's path, another sale's, another secret's, a changed expiry or garbage is refused", () => {
    const { path } = paths.issue(7, 3, now);
    expect(paths.check(path, 8, 3, now)).toBe(false);
    expect(paths.check(path, 7, 4, now)).toBe(false);
    expect(createBuyPaths('t'.repeat(32)).check(path, 7, 3, now)).toBe(false);
    const [exp, mac] = path.split('.');
    expect(paths.check(`${Number(exp) + 1000}.${mac}`, 7, 3, now)).toBe(false);
    for (const junk of [undefined, '', '.', 'abc', `${exp}.`, path + 'x', 'x'.repeat(500)]) expect(paths.check(junk, 7, 3, now)).toBe(false);
  });
});
