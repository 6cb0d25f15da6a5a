/**
 * The limits against bots and password guessing, on shared counters (the Limiter port):
 *
 * - login and register: per client address and per phone, `authPerMinute` attempts a minute each; and a run of
 *   failed logins per phone and address blocks that pair for 1 s, 2 s, 4 s … (15 min at most) once more than
 *   FREE_FAILURES failed within 15 minutes. A successful login ends the run.
 * - buying: per buyer (`buyerBurst` presses per window of `buyerBurst / buyerPerSecond` seconds) and per client
 *   address (`ipPerSecond` a second; many buyers may share one address behind NAT, so it is set higher);
 *   the hidden buy path's hand-out has the same two limits, counted apart.
 *
 * When the shared store fails: buying lets the request through (the reservation right after uses the same
 * store and answers UNAVAILABLE itself; a slow limit must not refuse a sale), while login and register are
 * refused with UNAVAILABLE (an attacker who can slow the store must not get unthrottled guesses).
 *
 * A key refused once is remembered in process memory until its wait ends, so a script pressing in a loop
 * costs a Map lookup per press, not a store round trip.
 */
import { SeckillError } from './errors.ts';
import type { Clock, Limiter, MakeLimiter } from './ports.ts';

export const FREE_FAILURES = 5;
export const FAILURE_WINDOW_S = 15 * 60;
export const MAX_BLOCK_S = 15 * 60;

export interface AbuseLimitSettings {
  /** Login and register attempts per minute per client address and per phone; 0 = off. */
  authPerMinute: number;
  /** Buy presses per second per buyer, with a burst; 0 = off. */
  buyerPerSecond: number;
  buyerBurst: number;
  /** Buy requests per second per client address; 0 = off. */
  ipPerSecond: number;
}

export interface AbuseLimits {
  /** Before a login or register: 0 to go on, else the seconds to wait. Throws UNAVAILABLE when the store fails. */
  beforeAuth(ip: string, phone: string): Promise<number>;
  loginFailed(ip: string, phone: string): Promise<void>;
  loginSucceeded(ip: string, phone: string): Promise<void>;
  /** Before a buy press: 0 to go on, else the seconds to wait. */
  beforeBuy(ip: string, userId: number): Promise<number>;
  /** Before a buy path is handed out (the same limits as a press, counted apart): 0 to go on, else the seconds to wait. */
  beforePath(ip: string, userId: number): Promise<number>;
}

/** Block length after the n-th failure in a run: nothing up to FREE_FAILURES, then doubling from 1 s. */
export const backoffSeconds = (failures: number): number =>
  failures <= FREE_FAILURES ? 0 : Math.min(MAX_BLOCK_S, 2 ** Math.min(30, failures - FREE_FAILURES - 1));

export function createAbuseLimits(make: MakeLimiter, settings: AbuseLimitSettings, clock: Clock): AbuseLimits {
  const refused = new Map<string, number>();
  /** Take one event unless the key is known to be refused until later: 0 or the seconds to wait. */
  const take = async (limiter: Limiter | null, name: string, key: string): Promise<number> => {
    if (!limiter) return 0;
    const id = `${name}|${key}`;
    const now = clock.now().getTime();
    const until = refused.get(id);
    if (until !== undefined) {
      if (until > now) return Math.ceil((until - now) / 1000);
      refused.delete(id);
    }
    const { wait } = await limiter.take(key);
    if (wait > 0) {
      if (refused.size >= 100_000) for (const [k, t] of refused) if (t <= now) refused.delete(k);
      if (refused.size < 100_000) refused.set(id, now + wait * 1000);
    }
    return wait;
  };

  const perMinute = settings.authPerMinute;
  const authIp = perMinute > 0 ? make({ name: 'auth-ip', points: perMinute, durationSeconds: 60 }) : null;
  const authPhone = perMinute > 0 ? make({ name: 'auth-phone', points: perMinute, durationSeconds: 60 }) : null;
  const failures = make({ name: 'login-fail', points: FREE_FAILURES, durationSeconds: FAILURE_WINDOW_S });
  const blocks = make({ name: 'login-block', points: 1, durationSeconds: MAX_BLOCK_S });
  const perBuyer = (name: string) =>
    settings.buyerPerSecond > 0
      ? make({ name, points: settings.buyerBurst, durationSeconds: Math.max(1, Math.round(settings.buyerBurst / settings.buyerPerSecond)) })
      : null;
  const perAddress = (name: string) => (settings.ipPerSecond > 0 ? make({ name, points: Math.max(1, Math.round(settings.ipPerSecond)), durationSeconds: 1 }) : null);
  // Paths are counted apart from presses: a page asks for one before each press, and must not halve its presses.
  const [buyer, buyIp, pathBuyer, pathIp] = [perBuyer('buy-user'), perAddress('buy-ip'), perBuyer('path-user'), perAddress('path-ip')];
  const pair = (ip: string, phone: string) => `${phone}|${ip}`;

  const unavailable = (cause: unknown) =>
    new SeckillError('UNAVAILABLE', 'Logging in is unavailable for a moment; try again shortly.', { cause });

  return {
    async beforeAuth(ip, phone) {
      try {
        const waits = await Promise.all([take(authIp, 'auth-ip', ip), take(authPhone, 'auth-phone', phone), blocks.waitOf(pair(ip, phone))]);
        return Math.max(...waits);
      } catch (err) {
        throw unavailable(err);
      }
    },
    async loginFailed(ip, phone) {
      try {
        const { count } = await failures.take(pair(ip, phone));
        const block = backoffSeconds(count);
        if (block > 0) await blocks.block(pair(ip, phone), block);
      } catch {
        // The next attempt's check reaches the same store and refuses while it is down.
      }
    },
    async loginSucceeded(ip, phone) {
      await Promise.all([failures.reset(pair(ip, phone)), blocks.reset(pair(ip, phone))]).catch(() => undefined);
    },
    async beforeBuy(ip, userId) {
      try {
        const waits = await Promise.all([take(buyer, 'buy-user', String(userId)), take(buyIp, 'buy-ip', ip)]);
        return Math.max(...waits);
      } catch {
        return 0;
      }
    },
    async beforePath(ip, userId) {
      try {
        const waits = await Promise.all([take(pathBuyer, 'path-user', String(userId)), take(pathIp, 'path-ip', ip)]);
        return Math.max(...waits);
      } catch {
        // As a press: the claim of the path at the buy reaches the same store and answers UNAVAILABLE itself.
        return 0;
      }
    },
  };
}
