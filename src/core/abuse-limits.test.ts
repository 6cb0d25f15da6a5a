import { describe, expect, it } from 'vitest';
import { createMemoryLimiters } from '../adapters/limiter/flexible-limiter.ts';
import { backoffSeconds, createAbuseLimits, PAIR_FREE_FAILURES, MAX_BLOCK_S } from './abuse-limits.ts';
import type { MakeLimiter } from './ports/limiter.ts';

const clock = { now: () => new Date() };
const settings = { authPerMinute: 1000, ipFailuresPerMinute: 1000, phoneFailuresPerHour: 1000, buyerPerSecond: 5, buyerBurst: 10, ipPerSecond: 1000 };
const OWNER = '13900000001';

/** Fail logins for `phone` from `ip` until the pair is blocked; how many failures it took. */
async function failUntilBlocked(limits: ReturnType<typeof createAbuseLimits>, ip: string, phone: string): Promise<number> {
  let n = 0;
  while ((await limits.beforeLogin(ip, phone)) === 0) {
    await limits.loginFailed(ip, phone);
    n++;
  }
  return n;
}

describe('abuse limits', () => {
  it('failures from one address do not block the owner on another address', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, phoneFailuresPerHour: 100 }, clock);
    expect(await failUntilBlocked(limits, '10.0.0.66', OWNER)).toBe(PAIR_FREE_FAILURES + 1);
    expect(await limits.beforeLogin('10.0.0.66', OWNER)).toBeGreaterThan(0);
    expect(await limits.beforeLogin('10.0.0.1', OWNER)).toBe(0);
  });

  it('attempts refused while blocked count nowhere: the block does not grow and no budget is spent', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, authPerMinute: 20, ipFailuresPerMinute: 20, phoneFailuresPerHour: 20 }, clock);
    await failUntilBlocked(limits, '10.0.0.66', OWNER);
    const first = await limits.beforeLogin('10.0.0.66', OWNER);
    for (let i = 0; i < 200; i++) expect(await limits.beforeLogin('10.0.0.66', OWNER)).toBeLessThanOrEqual(first);
    // The 200 refused presses spent neither the address's attempts (20) nor the phone's failures (20).
    expect(await limits.beforeLogin('10.0.0.66', '13900000002')).toBe(0);
    expect(await limits.beforeLogin('10.0.0.1', OWNER)).toBe(0);
  });

  it('successful logins spend no failure budget, and end the pair\'s run of failures', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, ipFailuresPerMinute: 3, phoneFailuresPerHour: 3 }, clock);
    for (let i = 0; i < 50; i++) {
      expect(await limits.beforeLogin('10.0.0.1', OWNER)).toBe(0);
      await limits.loginSucceeded('10.0.0.1', OWNER);
    }
    const pairOnly = createAbuseLimits(createMemoryLimiters(), settings, clock);
    for (let i = 0; i < PAIR_FREE_FAILURES - 1; i++) await pairOnly.loginFailed('10.0.0.2', OWNER);
    await pairOnly.loginSucceeded('10.0.0.2', OWNER);
    for (let i = 0; i < PAIR_FREE_FAILURES - 1; i++) await pairOnly.loginFailed('10.0.0.2', OWNER);
    expect(await pairOnly.beforeLogin('10.0.0.2', OWNER)).toBe(0);
  });

  it('distributed guessing stops at the per-phone ceiling; an address the owner logged in from still works', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, phoneFailuresPerHour: 30 }, clock);
    await limits.loginSucceeded('10.0.0.1', OWNER);
    let guesses = 0;
    let address = 0;
    // A botnet: each address stays under the pair's free failures, so only the phone's ceiling stops it.
    while (address < 1000) {
      const ip = `10.66.${Math.floor(address / 250)}.${address % 250}`;
      address++;
      if ((await limits.beforeLogin(ip, OWNER)) > 0) break;
      await limits.loginFailed(ip, OWNER);
      guesses++;
    }
    expect(guesses).toBe(30);
    expect(await limits.beforeLogin('10.66.9.9', OWNER)).toBeGreaterThan(3000);
    expect(await limits.beforeLogin('10.0.0.1', OWNER)).toBe(0);
    // Other phones are not touched by it.
    expect(await limits.beforeLogin('10.66.9.9', '13900000002')).toBe(0);
  });

  it('failed logins per address stop a password list over many phones; right passwords behind the same address go on', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, authPerMinute: 100, ipFailuresPerMinute: 10 }, clock);
    let tried = 0;
    for (let i = 0; i < 100 && (await limits.beforeLogin('10.0.0.7', `1390000${String(i).padStart(4, '0')}`)) === 0; i++) {
      await limits.loginFailed('10.0.0.7', `1390000${String(i).padStart(4, '0')}`);
      tried++;
    }
    expect(tried).toBe(10);
    // Buyers on other addresses are unaffected.
    expect(await limits.beforeLogin('10.0.0.8', '13900000001')).toBe(0);
  });

  it('buyers behind one NAT address: everyone who types the password right gets in, up to the attempt ceiling', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, authPerMinute: 600, ipFailuresPerMinute: 60 }, clock);
    let loggedIn = 0;
    let refused = 0;
    // 1,000 buyers press at once; one in ten mistypes first and tries again.
    for (let b = 0; b < 1000; b++) {
      const phone = `1370000${String(b).padStart(4, '0')}`;
      if (b % 10 === 0) {
        if ((await limits.beforeLogin('100.64.0.1', phone)) > 0) {
          refused++;
          continue;
        }
        await limits.loginFailed('100.64.0.1', phone);
      }
      if ((await limits.beforeLogin('100.64.0.1', phone)) > 0) {
        refused++;
        continue;
      }
      await limits.loginSucceeded('100.64.0.1', phone);
      loggedIn++;
    }
    // 600 attempts a minute: 545 buyers in (55 of them after one mistake); the rest wait under a minute.
    expect(loggedIn).toBe(545);
    expect(refused).toBe(1000 - 545);
    expect(await limits.beforeLogin('100.64.0.1', '13800009999')).toBeLessThanOrEqual(60);
  });

  it('register attempts per address and per phone stop at the limit; logins are not charged for them', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), { ...settings, authPerMinute: 2 }, clock);
    expect(await limits.beforeRegister('10.0.0.9', '13900000001')).toBe(0);
    expect(await limits.beforeRegister('10.0.0.9', '13900000002')).toBe(0);
    expect(await limits.beforeRegister('10.0.0.9', '13900000003')).toBeGreaterThan(0);
    expect(await limits.beforeRegister('10.0.0.8', '13900000001')).toBe(0);
    expect(await limits.beforeRegister('10.0.0.7', '13900000001')).toBeGreaterThan(0);
    expect(await limits.beforeLogin('10.0.0.5', '13900000001')).toBe(0);
  });

  it('failed logins beyond the free ones block the phone and address pair, longer with each failure', async () => {
    const limits = createAbuseLimits(createMemoryLimiters(), settings, clock);
    for (let i = 0; i < PAIR_FREE_FAILURES; i++) await limits.loginFailed('10.0.0.1', OWNER);
    expect(await limits.beforeLogin('10.0.0.1', OWNER)).toBe(0);
    await limits.loginFailed('10.0.0.1', OWNER);
    const first = await limits.beforeLogin('10.0.0.1', OWNER);
    expect(first).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) await limits.loginFailed('10.0.0.1', OWNER);
    const fresh = createAbuseLimits(createMemoryLimiters(), settings, clock);
    for (let i = 0; i < PAIR_FREE_FAILURES + 5; i++) await fresh.loginFailed('10.0.0.1', OWNER);
    expect(await fresh.beforeLogin('10.0.0.1', OWNER)).toBeGreaterThan(first);
    expect(await limits.beforeLogin('10.0.0.1', '13900000002')).toBe(0);
  });

  it('the backoff doubles from 1 s after the free failures and stops at the cap', () => {
    expect([PAIR_FREE_FAILURES, PAIR_FREE_FAILURES + 1, PAIR_FREE_FAILURES + 2, PAIR_FREE_FAILURES + 3].map(backoffSeconds)).toEqual([0, 1, 2, 4]);
    expect(backoffSeconds(PAIR_FREE_FAILURES + 100)).toBe(MAX_BLOCK_S);
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
    const limits = createAbuseLimits(createMemoryLimiters(), { authPerMinute: 0, ipFailuresPerMinute: 0, phoneFailuresPerHour: 0, buyerPerSecond: 0, buyerBurst: 1, ipPerSecond: 0 }, clock);
    for (let i = 0; i < 50; i++) {
      expect(await limits.beforeBuy('10.0.0.1', 1)).toBe(0);
      expect(await limits.beforeRegister('10.0.0.1', '13900000001')).toBe(0);
      expect(await limits.beforeLogin('10.0.0.1', `1390000${String(i).padStart(4, '0')}`)).toBe(0);
      await limits.loginFailed('10.0.0.1', `1390000${String(i).padStart(4, '0')}`);
    }
  });

  it('when the store fails, buying goes on and login is refused UNAVAILABLE', async () => {
    const broken: MakeLimiter = () => {
      const fail = () => Promise.reject(new Error('store down'));
      return { take: fail, waitOf: fail, countOf: fail, block: fail, reset: fail };
    };
    const limits = createAbuseLimits(broken, settings, clock);
    expect(await limits.beforeBuy('10.0.0.1', 1)).toBe(0);
    await expect(limits.beforeLogin('10.0.0.1', '13900000001')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(limits.beforeRegister('10.0.0.1', '13900000001')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(limits.loginFailed('10.0.0.1', '13900000001')).resolves.toBeUndefined();
  });
});
