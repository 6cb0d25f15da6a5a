import { describe, expect, it } from 'vitest';
import { createMemoryOnceClaims } from '../adapters/once-claims/memory-once-claims.ts';
import { admitWithPath, BUY_PATH_TTL_S, createBuyPaths } from './buy-path.ts';
import type { OnceClaims } from './ports/once-claims.ts';

describe('buy paths', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const paths = createBuyPaths('s'.repeat(32));

  it('a path checks for its buyer and sale until it expires', () => {
    const { path, expiresAt } = paths.issue(7, 3, now);
    expect(expiresAt.getTime() - now.getTime()).toBe(BUY_PATH_TTL_S * 1000);
    expect(paths.check(path, 7, 3, now)).toEqual({ id: expect.stringMatching(/^7:/), expiresAt });
    expect(paths.check(path, 7, 3, new Date(expiresAt.getTime() - 1))).not.toBeNull();
    expect(paths.check(path, 7, 3, expiresAt)).toBeNull();
  });

  it('two paths asked for in the same second are two paths', () => {
    const [a, b] = [paths.issue(7, 3, now), paths.issue(7, 3, now)];
    expect(a.path).not.toBe(b.path);
    expect(paths.check(a.path, 7, 3, now)!.id).not.toBe(paths.check(b.path, 7, 3, now)!.id);
  });

  it("another buyer's path, another sale's, another secret's, a changed expiry or nonce, or garbage is refused", () => {
    const { path } = paths.issue(7, 3, now);
    expect(paths.check(path, 8, 3, now)).toBeNull();
    expect(paths.check(path, 7, 4, now)).toBeNull();
    expect(createBuyPaths('t'.repeat(32)).check(path, 7, 3, now)).toBeNull();
    const [exp, nonce, mac] = path.split('.');
    expect(paths.check(`${Number(exp) + 1000}.${nonce}.${mac}`, 7, 3, now)).toBeNull();
    expect(paths.check(`${exp}.${'A'.repeat(16)}.${mac}`, 7, 3, now)).toBeNull();
    for (const junk of [undefined, '', '.', 'abc', `${exp}.`, `${exp}.${mac}`, path + 'x', 'x'.repeat(500)]) expect(paths.check(junk, 7, 3, now)).toBeNull();
  });
});

describe('a buy path is used by one request', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const paths = createBuyPaths('s'.repeat(32));
  const request = (path: string | undefined, uuid: string) => ({ path, userId: 7, seckillGoodId: 3, uuid });

  it('the first request with a path goes on, and so does the same request sent again; another request is refused', async () => {
    const deps = { paths, claims: createMemoryOnceClaims(() => now.getTime()) };
    const { path } = paths.issue(7, 3, now);
    expect(await admitWithPath(deps, request(path, 'uuid-first-1'), now)).toBe(true);
    expect(await admitWithPath(deps, request(path, 'uuid-first-1'), now)).toBe(true);
    expect(await admitWithPath(deps, request(path, 'uuid-other-1'), now)).toBe(false);
    // The first request retried with a new path goes on too (it is then that path's request).
    const fresh = paths.issue(7, 3, now).path;
    expect(await admitWithPath(deps, request(fresh, 'uuid-first-1'), now)).toBe(true);
    expect(await admitWithPath(deps, request(fresh, 'uuid-other-1'), now)).toBe(false);
  });

  it('of a hundred requests with one path at once, exactly one goes on', async () => {
    const deps = { paths, claims: createMemoryOnceClaims(() => now.getTime()) };
    const { path } = paths.issue(7, 3, now);
    const admitted = await Promise.all(Array.from({ length: 100 }, (_, i) => admitWithPath(deps, request(path, `uuid-race-${i}`), now)));
    expect(admitted.filter(Boolean)).toHaveLength(1);
  });

  it('an invalid path claims nothing; a claims store that fails is UNAVAILABLE, not a refusal', async () => {
    let asked = 0;
    const counting: OnceClaims = { claim: async (_k, holder) => (asked++, holder) };
    expect(await admitWithPath({ paths, claims: counting }, request('garbage', 'uuid-x-0001'), now)).toBe(false);
    expect(asked).toBe(0);
    const down: OnceClaims = { claim: () => Promise.reject(new Error('redis down')) };
    await expect(admitWithPath({ paths, claims: down }, request(paths.issue(7, 3, now).path, 'uuid-x-0002'), now)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
