import { describe, expect, it } from 'vitest';
import { createMemoryLimiters } from '../adapters/limiter/flexible-limiter.ts';
import { backoffSeconds, createAbuseLimits, FREE_FAILURES, MAX_BLOCK_S } from './abuse-limits.ts';
import type { MakeLimiter } from './ports.ts';

const clock = { now: () => new Date() };
const settings = { authPerMinute: 1000, buyerPerSecond: 5, buyerBurst: 10, ipPerSecond: 1000 };

describe('abuse limits', () => {
  it('login attempts per phone stop at the limit, whatever the address', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, authPerMinute: 3 }, clock);
    const waits = [];
    for (let i = 0; i < 4; i++) waits.push(await limits.beforeAuth(`10.0.0.${i}`, '13900000001'));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    expect(waits[3]).toBeGreaterThan(0);
  });

  it('login attempts per address stop at the limit, whatever the phone', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, authPerMinute: 2 }, clock);
    expect(await limits.beforeAuth('10.0.0.9', '13900000001')).toBe(0);
    expect(await limits.beforeAuth('10.0.0.9', '13900000002')).toBe(0);
    expect(await limits.beforeAuth('10.0.0.9', '13900000003')).toBeGreaterThan(0);
    expect(await limits.beforeAuth('10.0.0.8', '13900000003')).toBe(0);
  });

  it('failed logins beyond the free ones block the phone and address pair, longer with each failure', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), settings, clock);
    for (let i = 0; i < FREE_FAILURES; i++) await limits.loginFailed('10.0.0.1', '13900000001');
    expect(await limits.beforeAuth('10.0.0.1', '13900000001')).toBe(0);
    await limits.loginFailed('10.0.0.1', '13900000001');
    const first = await limits.beforeAuth('10.0.0.1', '13900000001');
    expect(first).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) await limits.loginFailed('10.0.0.1', '13900000001');
    expect(await limits.beforeAuth('10.0.0.1', '13900000001')).toBeGreaterThan(first);
    // Another address, or another phone, is not blocked by this run.
    expect(await limits.beforeAuth('10.0.0.2', '13900000001')).toBe(0);
    expect(await limits.beforeAuth('10.0.0.1', '13900000002')).toBe(0);
    await limits.loginSucceeded('10.0.0.1', '13900000001');
    expect(await limits.beforeAuth('10.0.0.1', '13900000001')).toBe(0);
  });

  it('the backoff doubles from 1 s after the free failures and stops at the cap', () => {
    expect([FREE_FAILURES, FREE_FAILURES + 1, FREE_FAILURES + 2, FREE_FAILURES + 3].map(backoffSeconds)).toEqual([0, 1, 2, 4]);
    expect(backoffSeconds(FREE_FAILURES + 100)).toBe(MAX_BLOCK_S);
  });

  it('buy presses per buyer stop after the burst; another buyer on the same address goes on', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, buyerPerSecond: 1, buyerBurst: 3 }, clock);
    const waits = [];
    for (let i = 0; i < 5; i++) waits.push(await limits.beforeBuy('10.0.0.1', 7));
    expect(waits.map((w) => w > 0)).toEqual([false, false, false, true, true]);
    expect(await limits.beforeBuy('10.0.0.1', 8)).toBe(0);
  });

  it('buy requests per address stop at the limit, whatever the buyer', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, ipPerSecond: 2 }, clock);
    expect(await limits.beforeBuy('10.0.0.1', 1)).toBe(0);
    expect(await limits.beforeBuy('10.0.0.1', 2)).toBe(0);
    expect(await limits.beforeBuy('10.0.0.1', 3)).toBeGreaterThan(0);
  });

  it('buy paths have the press limits, counted apart from presses: asking for paths leaves the presses whole', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, buyerPerSecond: 1, buyerBurst: 3, ipPerSecond: 100 }, clock);
    const waits = [];
    for (let i = 0; i < 4; i++) waits.push(await limits.beforePath(`10.0.1.${i}`, 7));
    expect(waits.map((w) => w > 0)).toEqual([false, false, false, true]);
    expect(await limits.beforeBuy('10.0.1.9', 7)).toBe(0);
    const perAddress = createAbuseLimits(createMemoryLimiters(), { ...settings, ipPerSecond: 2 }, clock);
    expect([await perAddress.beforePath('10.0.0.1', 1), await perAddress.beforePath('10.0.0.1', 2), await perAddress.beforePath('10.0.0.1', 3)].map((w) => w > 0)).toEqual([false, false, true]);
  });

  it('0 turns a limit off', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { authPerMinute: 0, buyerPerSecond: 0, buyerBurst: 1, ipPerSecond: 0 }, clock);
    for (let i = 0; i < 50; i++) {
      expect(await limits.beforeBuy('10.0.0.1', 1)).toBe(0);
      expect(await limits.beforeAuth('10.0.0.1', '13900000001')).toBe(0);
    }
  });

  it('when the store fails, buying goes on and login is refused UNAVAILABLE', async () => {
    const broken: MakeLimiter = () => {
      const fail = () => Promise.reject(new Error('store down'));
      return { take: fail, waitOf: fail, block: fail, reset: fail };
    };
    const limits = createAbuseLimits(broken, settings, clock);
    expect(await limits.beforeBuy('10.0.0.1', 1)).toBe(0);
    await expect(limits.beforeAuth('10.0.0.1', '13900000001')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(limits.loginFailed('10.0.0.1', '13900000001')).resolves.toBeUndefined();
  });
});
