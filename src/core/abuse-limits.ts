/**
 * The limits against bots and password guessing, on shared counters (the Limiter port). Each limit is sized so
 * that an attacker cannot turn it against the owner of an account (docs/security-logins.md):
 *
 * - a run of failed logins per (phone, client address) pair blocks that pair for 1 s, 2 s, 4 s … (15 min at
 *   most) once more than PAIR_FREE_FAILURES failed within 15 minutes: the owner on another address is not
 *   blocked by it. A successful login ends the run.
 * - failed logins per phone, from every address together: `phoneFailuresPerHour` an hour (distributed
 *   guessing). Past it the phone is refused, except from an address it logged in from in the last
 *   KNOWN_ADDRESS_S of its first login there (the owner's usual addresses keep working while a botnet guesses).
 * - failed logins per client address, every phone together: `ipFailuresPerMinute` a minute (one address
 *   trying a password list over many phones). Only failures count: buyers behind one carrier NAT address who
 *   type their password right do not use it up.
 * - login and register attempts per client address: `authPerMinute` a minute, a CPU ceiling (every attempt
 *   costs a password hash) sized for many buyers behind one NAT address; register attempts per phone too.
 * - buying: per buyer (`buyerBurst` presses per window of `buyerBurst / buyerPerSecond` seconds) and per client
 *   address (`ipPerSecond` a second; many buyers may share one address behind NAT, so it is set higher);
 *   the hidden buy path's hand-out has the same two limits, counted apart.
 *
 * A refused attempt counts nowhere: the checks before a login only read the counts, and an attempt is counted
 * once it passed them; failures are counted after the password was checked. So pressing while blocked neither
 * lengthens the block nor spends anyone's budget.
 *
 * When the shared store fails: buying lets the request through (the reservation right after uses the same
 * store and answers UNAVAILABLE itself; a slow limit must not refuse a sale), while login and register are
 * refused with UNAVAILABLE (an attacker who can slow the store must not get unthrottled guesses).
 *
 * A key refused once is remembered in process memory until its wait ends, so a script pressing in a loop
 * costs a Map lookup per press, not a store round trip.
 */
import { SeckillError } from './errors.ts';
import type { Limiter, MakeLimiter } from './ports/limiter.ts';
import type { Clock } from './ports/timers.ts';

export const PAIR_FREE_FAILURES = 5;
export const FAILURE_WINDOW_S = 15 * 60;
export const MAX_BLOCK_S = 15 * 60;
/** How long an address that logged in stays known to the phone (under 24.8 days: a timer's longest wait). */
export const KNOWN_ADDRESS_S = 14 * 24 * 3600;

export interface AbuseLimitSettings {
  /** Login and register attempts per minute per client address (and register attempts per phone); 0 = off. */
  authPerMinute: number;
  /** Failed logins per minute per client address; 0 = off. */
  ipFailuresPerMinute: number;
  /** Failed logins per hour per phone, from every address; 0 = off. */
  phoneFailuresPerHour: number;
  /** Buy presses per second per buyer, with a burst; 0 = off. */
  buyerPerSecond: number;
  buyerBurst: number;
  /** Buy requests per second per client address; 0 = off. */
  ipPerSecond: number;
}

export interface AbuseLimits {
  /** Before a login (or a password change, which checks the old password): 0 to go on, else the seconds to wait. Throws UNAVAILABLE when the store fails. */
  beforeLogin(ip: string, phone: string): Promise<number>;
  /** Before a register: 0 to go on, else the seconds to wait. Throws UNAVAILABLE when the store fails. */
  beforeRegister(ip: string, phone: string): Promise<number>;
  loginFailed(ip: string, phone: string): Promise<void>;
  loginSucceeded(ip: string, phone: string): Promise<void>;
  /** Before a buy press: 0 to go on, else the seconds to wait. */
  beforeBuy(ip: string, userId: number): Promise<number>;
  /** Before a buy path is handed out (the same limits as a press, counted apart): 0 to go on, else the seconds to wait. */
  beforePath(ip: string, userId: number): Promise<number>;
}

/** Block length after the n-th failure in a run: nothing up to PAIR_FREE_FAILURES, then doubling from 1 s. */
export const backoffSeconds = (failures: number): number =>
  failures <= PAIR_FREE_FAILURES ? 0 : Math.min(MAX_BLOCK_S, 2 ** Math.min(30, failures - PAIR_FREE_FAILURES - 1));

interface Named {
  name: string;
  limiter: Limiter;
}

export function createAbuseLimits(make: MakeLimiter, settings: AbuseLimitSettings, clock: Clock): AbuseLimits {
  const refused = new Map<string, number>();
  const remember = (id: string, now: number, wait: number) => {
    if (wait <= 0) return;
    if (refused.size >= 100_000) for (const [k, t] of refused) if (t <= now) refused.delete(k);
    if (refused.size < 100_000) refused.set(id, now + wait * 1000);
  };
  /** A wait this process already knows of, without asking the store; 0 = none known. */
  const known = (id: string, now: number): number => {
    const until = refused.get(id);
    if (until === undefined) return 0;
    if (until > now) return Math.ceil((until - now) / 1000);
    refused.delete(id);
    return 0;
  };
  /** The key's wait, counting nothing: a block, or (`ceiling`) its count having reached `points`. */
  const peek = async (limit: Named | null, key: string, ceiling?: number): Promise<number> => {
    if (!limit) return 0;
    const id = `${limit.name}|${key}`;
    const now = clock.now().getTime();
    const cached = known(id, now);
    if (cached > 0) return cached;
    let wait: number;
    if (ceiling === undefined) wait = await limit.limiter.waitOf(key);
    else {
      // Failures are counted after the attempt: the ceiling is reached when the count is, not past it.
      const { count, seconds } = await limit.limiter.countOf(key);
      wait = count >= ceiling ? seconds : 0;
    }
    remember(id, now, wait);
    return wait;
  };
  /** Count one event: 0 or the seconds to wait. */
  const take = async (limit: Named | null, key: string): Promise<number> => {
    if (!limit) return 0;
    const id = `${limit.name}|${key}`;
    const now = clock.now().getTime();
    const cached = known(id, now);
    if (cached > 0) return cached;
    const { wait } = await limit.limiter.take(key);
    remember(id, now, wait);
    return wait;
  };
  const limit = (name: string, points: number, durationSeconds: number): Named | null =>
    points > 0 ? { name, limiter: make({ name, points, durationSeconds }) } : null;

  const authIp = limit('auth-ip', settings.authPerMinute, 60);
  const registerPhone = limit('register-phone', settings.authPerMinute, 60);
  const ipFailures = limit('login-fail-ip', settings.ipFailuresPerMinute, 60);
  const phoneFailures = limit('login-fail-phone', settings.phoneFailuresPerHour, 3600);
  const pairFailures = make({ name: 'login-fail', points: PAIR_FREE_FAILURES, durationSeconds: FAILURE_WINDOW_S });
  const pairBlocks: Named = { name: 'login-block', limiter: make({ name: 'login-block', points: 1, durationSeconds: MAX_BLOCK_S }) };
  const knownAddresses = make({ name: 'login-known', points: 1, durationSeconds: KNOWN_ADDRESS_S });
  const perBuyer = (name: string) =>
    settings.buyerPerSecond > 0 ? limit(name, settings.buyerBurst, Math.max(1, Math.round(settings.buyerBurst / settings.buyerPerSecond))) : null;
  const perAddress = (name: string) => (settings.ipPerSecond > 0 ? limit(name, Math.max(1, Math.round(settings.ipPerSecond)), 1) : null);
  // Paths are counted apart from presses: a page asks for one before each press, and must not halve its presses.
  const [buyer, buyIp, pathBuyer, pathIp] = [perBuyer('buy-user'), perAddress('buy-ip'), perBuyer('path-user'), perAddress('path-ip')];
  const pair = (ip: string, phone: string) => `${phone}|${ip}`;

  const unavailable = (cause: unknown) =>
    new SeckillError('UNAVAILABLE', 'Logging in is unavailable for a moment; try again shortly.', { cause });

  /** The phone's distributed-guessing ceiling, unless this address logged in to it lately. */
  const phoneWait = async (ip: string, phone: string): Promise<number> => {
    const wait = await peek(phoneFailures, phone, settings.phoneFailuresPerHour);
    if (wait === 0) return 0;
    return (await knownAddresses.countOf(pair(ip, phone))).count > 0 ? 0 : wait;
  };

  return {
    async beforeLogin(ip, phone) {
      try {
        const waits = await Promise.all([peek(pairBlocks, pair(ip, phone)), peek(ipFailures, ip, settings.ipFailuresPerMinute), phoneWait(ip, phone), peek(authIp, ip)]);
        const wait = Math.max(...waits);
        return wait > 0 ? wait : await take(authIp, ip);
      } catch (err) {
        throw unavailable(err);
      }
    },
    async beforeRegister(ip, phone) {
      try {
        const wait = Math.max(...(await Promise.all([peek(authIp, ip), peek(registerPhone, phone)])));
        if (wait > 0) return wait;
        return Math.max(...(await Promise.all([take(authIp, ip), take(registerPhone, phone)])));
      } catch (err) {
        throw unavailable(err);
      }
    },
    async loginFailed(ip, phone) {
      try {
        const [{ count }] = await Promise.all([
          pairFailures.take(pair(ip, phone)),
          phoneFailures?.limiter.take(phone),
          ipFailures?.limiter.take(ip),
        ]);
        const block = backoffSeconds(count);
        if (block > 0) await pairBlocks.limiter.block(pair(ip, phone), block);
      } catch {
        // The next attempt's check reaches the same store and refuses while it is down.
      }
    },
    async loginSucceeded(ip, phone) {
      const key = pair(ip, phone);
      await Promise.all([pairFailures.reset(key), pairBlocks.limiter.reset(key), knownAddresses.take(key)]).catch(() => undefined);
    },
    async beforeBuy(ip, userId) {
      try {
        const waits = await Promise.all([take(buyer, String(userId)), take(buyIp, ip)]);
        return Math.max(...waits);
      } catch {
        return 0;
      }
    },
    async beforePath(ip, userId) {
      try {
        const waits = await Promise.all([take(pathBuyer, String(userId)), take(pathIp, ip)]);
        return Math.max(...waits);
      } catch {
        // As a press: the claim of the path at the buy reaches the same store and answers UNAVAILABLE itself.
        return 0;
      }
    },
  };
}
