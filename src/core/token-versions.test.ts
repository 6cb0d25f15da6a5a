import { describe, expect, it } from 'vitest';
import type { Role } from './model.ts';
import { createTokenVersions } from './token-versions.ts';
import { systemTimers } from '../adapters/timers/system-timers.ts';
import { createManualTimers } from './manual-timers.fixture.ts';

function fakeUsers(rows: Map<number, { role: Role; tokenVersion: number }>) {
  const reads: number[][] = [];
  return {
    reads,
    async tokenVersionsOf(ids: readonly number[]) {
      reads.push([...ids]);
      return ids.filter((id) => rows.has(id)).map((id) => ({ id, ...rows.get(id)! }));
    },
  };
}

describe('token versions', () => {
  it('many lookups of one moment share one read; unknown users are null', async () => {
    const rows = new Map([[1, { role: 'user' as const, tokenVersion: 0 }], [2, { role: 'admin' as const, tokenVersion: 4 }]]);
    const users = fakeUsers(rows);
    const versions = createTokenVersions(users, { now: () => new Date() }, { ttlMs: 60_000, timers: systemTimers });
    const answers = await Promise.all([versions.current(1), versions.current(2), versions.current(1), versions.current(3)]);
    expect(answers).toEqual([{ role: 'user', tokenVersion: 0 }, { role: 'admin', tokenVersion: 4 }, { role: 'user', tokenVersion: 0 }, null]);
    expect(users.reads).toEqual([[1, 2, 3]]);
  });

  it('a cached answer is used until its time is up, then read again', async () => {
    const rows = new Map([[1, { role: 'user' as const, tokenVersion: 0 }]]);
    const users = fakeUsers(rows);
    let now = 0;
    const versions = createTokenVersions(users, { now: () => new Date(now) }, { ttlMs: 5000, timers: systemTimers });
    await versions.current(1);
    rows.set(1, { role: 'user', tokenVersion: 1 });
    now = 4999;
    expect(await versions.current(1)).toEqual({ role: 'user', tokenVersion: 0 });
    now = 5000;
    expect(await versions.current(1)).toEqual({ role: 'user', tokenVersion: 1 });
    expect(users.reads).toHaveLength(2);
  });

  it('a change remembered by this process is seen at once, with no read', async () => {
    const users = fakeUsers(new Map([[1, { role: 'user' as const, tokenVersion: 0 }]]));
    const versions = createTokenVersions(users, { now: () => new Date() }, { ttlMs: 60_000, timers: systemTimers });
    await versions.current(1);
    versions.remember(1, { role: 'user', tokenVersion: 1 });
    expect(await versions.current(1)).toEqual({ role: 'user', tokenVersion: 1 });
    expect(users.reads).toHaveLength(1);
  });

  it('a failed read fails its lookups and is not cached', async () => {
    let fail = true;
    const versions = createTokenVersions(
      {
        async tokenVersionsOf(ids) {
          if (fail) throw new Error('db down');
          return ids.map((id) => ({ id, role: 'user' as const, tokenVersion: 0 }));
        },
      },
      { now: () => new Date() },
      { ttlMs: 60_000, timers: systemTimers },
    );
    await expect(versions.current(1)).rejects.toThrow('db down');
    fail = false;
    expect(await versions.current(1)).toEqual({ role: 'user', tokenVersion: 0 });
  });

  it('when the read fails, an entry past its time is still answered', async () => {
    let fail = false;
    let now = 0;
    const versions = createTokenVersions(
      {
        async tokenVersionsOf(ids) {
          if (fail) throw new Error('db down');
          return ids.map((id) => ({ id, role: 'user' as const, tokenVersion: 3 }));
        },
      },
      { now: () => new Date(now) },
      { ttlMs: 1000, timers: systemTimers },
    );
    await versions.current(1);
    fail = true;
    now = 5000;
    expect(await versions.current(1)).toEqual({ role: 'user', tokenVersion: 3 });
    await expect(versions.current(2)).rejects.toThrow('db down');
  });

  it('more waiting ids than one read takes are read in chunks', async () => {
    const rows = new Map(Array.from({ length: 1200 }, (_, i) => [i + 1, { role: 'user' as const, tokenVersion: 0 }] as const));
    const users = fakeUsers(new Map(rows));
    const versions = createTokenVersions(users, { now: () => new Date() }, { ttlMs: 60_000, timers: systemTimers });
    const answers = await Promise.all([...rows.keys()].map((id) => versions.current(id)));
    expect(answers.every((a) => a?.tokenVersion === 0)).toBe(true);
    expect(users.reads.map((r) => r.length)).toEqual([500, 500, 200]);
  });
  it('at most two reads run at once: the misses that arrive meanwhile share the next read', async () => {
    const reads: number[][] = [];
    const pending: (() => void)[] = [];
    const users = {
      tokenVersionsOf: (ids: readonly number[]) =>
        new Promise<{ id: number; role: Role; tokenVersion: number }[]>((resolve) => {
          reads.push([...ids]);
          pending.push(() => resolve(ids.map((id) => ({ id, role: 'user' as const, tokenVersion: 0 }))));
        }),
    };
    const timers = createManualTimers();
    const versions = createTokenVersions(users, { now: () => new Date() }, { ttlMs: 60_000, timers });
    const settled = new Set<number>();
    const ask = (id: number) => void versions.current(id).then(() => settled.add(id));
    ask(1);
    timers.advance(1);
    ask(2);
    timers.advance(1);
    // Two reads are running: later misses wait.
    for (const id of [3, 4, 5]) ask(id);
    timers.advance(10);
    expect(reads).toEqual([[1], [2]]);
    // The first read ends: the three that waited go in one read.
    pending.shift()!();
    await Promise.resolve().then(() => new Promise((r) => setImmediate(r)));
    timers.advance(1);
    expect(reads).toEqual([[1], [2], [3, 4, 5]]);
    for (const finish of pending.splice(0)) finish();
    await new Promise((r) => setImmediate(r));
    expect([...settled].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('reads that stall hold the next one back 50 ms at most: a buyer waits for no read but their own', async () => {
    const reads: number[][] = [];
    const users = {
      tokenVersionsOf: (ids: readonly number[]) => {
        reads.push([...ids]);
        return new Promise<{ id: number; role: Role; tokenVersion: number }[]>(() => undefined);
      },
    };
    const timers = createManualTimers();
    const versions = createTokenVersions(users, { now: () => new Date() }, { ttlMs: 60_000, timers });
    void versions.current(1);
    timers.advance(1);
    void versions.current(2);
    timers.advance(1);
    void versions.current(3);
    timers.advance(49);
    expect(reads).toEqual([[1], [2]]);
    timers.advance(1);
    expect(reads).toEqual([[1], [2], [3]]);
  });
});
