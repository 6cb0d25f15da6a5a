/**
 * Proving a phone is the buyer's: a 6-digit one-time code sent by text message, asked for at register and at
 * password reset. The rules:
 *
 * - a code lives CODE_TTL_MS, is kept only as an HMAC keyed by a server secret (a copy of the table does not
 *   give the codes away, and 10^6 guesses against it need the key), and is used once;
 * - at most MAX_VERIFY_ATTEMPTS wrong guesses per code, then it is dead and a new one must be asked for;
 * - sending is limited per phone (one a minute per purpose, PER_PHONE_PER_HOUR an hour: nobody's phone is flooded) and per
 *   client address (`ipPerHour`: one script cannot buy text messages by the thousand);
 * - asking answers the same whether or not the phone has an account: a taken phone asking to register, or an
 *   unknown phone asking to reset, is sent a notice instead of a code, so the request costs the same and the
 *   owner of the phone learns someone tried.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { SeckillError } from './errors.ts';
import type { Limiter, MakeLimiter } from './ports/limiter.ts';
import type { CodePurpose, PhoneCodeStore } from './ports/phone-code-store.ts';
import type { SmsSender } from './ports/sms-sender.ts';
import type { Clock } from './ports/timers.ts';
import type { UserStore } from './ports/user-store.ts';

export const CODE_TTL_MS = 5 * 60 * 1000;
export const MAX_VERIFY_ATTEMPTS = 5;
export const PER_PHONE_PER_HOUR = 5;

export interface PhoneCodeDeps {
  codes: PhoneCodeStore;
  sms: SmsSender;
  users: Pick<UserStore, 'findByPhone'>;
  clock: Clock;
  /** The key of the codes' HMAC (derived from the token secret: every api process must agree on it). */
  secret: string;
  limits: CodeSendLimits;
}

/** A new code: six digits, uniformly drawn (leading zeros kept). */
export const newCode = (): string => String(randomInt(0, 1_000_000)).padStart(6, '0');

export function hashCode(secret: string, phone: string, purpose: CodePurpose, code: string): string {
  return createHmac('sha256', secret).update(`${purpose}|${phone}|${code}`).digest('base64url');
}

/** Equal hashes, in time that does not depend on where they first differ. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  return x.length === y.length && timingSafeEqual(x, y);
}

export const codeText = (code: string, purpose: CodePurpose): string =>
  `[seckill] ${code} is your ${purpose === 'register' ? 'sign-up' : 'password reset'} code. It expires in ${CODE_TTL_MS / 60_000} minutes. Never share it.`;

export const ACCOUNT_EXISTS_TEXT =
  '[seckill] Someone asked to sign up with this number, which already has an account. Log in, or reset your password. If it was not you, ignore this message.';
export const NO_ACCOUNT_TEXT =
  '[seckill] Someone asked to reset the password of this number, which has no account. If it was not you, ignore this message.';

export interface CodeSendLimits {
  /** 0 to go on, else the seconds to wait. Throws UNAVAILABLE when the shared counters cannot be reached. */
  beforeSend(ip: string, phone: string, purpose: CodePurpose): Promise<number>;
}

export function createCodeSendLimits(make: MakeLimiter, settings: { ipPerHour: number }): CodeSendLimits {
  const minute = make({ name: 'sms-phone-min', points: 1, durationSeconds: 60 });
  const hour = make({ name: 'sms-phone-hour', points: PER_PHONE_PER_HOUR, durationSeconds: 3600 });
  const ip: Limiter | null = settings.ipPerHour > 0 ? make({ name: 'sms-ip-hour', points: settings.ipPerHour, durationSeconds: 3600 }) : null;
  return {
    async beforeSend(address, phone, purpose) {
      try {
        // The address first: a script rotating phones from one address is stopped without touching their counts.
        const byIp = ip ? (await ip.take(address)).wait : 0;
        if (byIp > 0) return byIp;
        // One a minute per purpose (a buyer who just registered may reset at once); the hour counts both.
        const waits = await Promise.all([minute.take(`${purpose}|${phone}`), hour.take(phone)]);
        return Math.max(...waits.map((w) => w.wait));
      } catch (err) {
        throw new SeckillError('UNAVAILABLE', 'Codes cannot be sent for a moment; try again shortly.', { cause: err });
      }
    },
  };
}

/**
 * Send a code (or, when the phone's account state does not fit the purpose, a notice). The caller answers the
 * same either way; RATE_LIMITED when this phone or address asked too often.
 */
export async function sendCode(deps: PhoneCodeDeps, input: { phone: string; purpose: CodePurpose }, origin: { ip: string }): Promise<void> {
  const wait = await deps.limits.beforeSend(origin.ip, input.phone, input.purpose);
  if (wait > 0) throw new SeckillError('RATE_LIMITED', 'A code was sent a moment ago; wait before asking again.', { details: { retryAfterSeconds: wait } });
  const hasAccount = (await deps.users.findByPhone(input.phone)) !== null;
  if (input.purpose === 'register' && hasAccount) return deps.sms.send({ phone: input.phone, text: ACCOUNT_EXISTS_TEXT });
  if (input.purpose === 'reset' && !hasAccount) return deps.sms.send({ phone: input.phone, text: NO_ACCOUNT_TEXT });
  const code = newCode();
  const expiresAt = new Date(deps.clock.now().getTime() + CODE_TTL_MS);
  await deps.codes.put({ phone: input.phone, purpose: input.purpose, codeHash: hashCode(deps.secret, input.phone, input.purpose, code), expiresAt });
  await deps.sms.send({ phone: input.phone, text: codeText(code, input.purpose) });
}

export const wrongCodeError = (): SeckillError =>
  new SeckillError('INVALID_INPUT', 'The code is wrong or has expired; ask for a new one if it keeps failing.', {
    details: { fields: ['code'], problems: [{ field: 'code', problem: 'wrong, expired or used' }] },
  });

/**
 * Use up the code of this phone and purpose: resolves once it matched (and no other caller used it first);
 * INVALID_INPUT naming `code` otherwise (wrong, expired, used, never sent, or out of attempts — one answer).
 */
export async function redeemCode(deps: Pick<PhoneCodeDeps, 'codes' | 'clock' | 'secret'>, input: { phone: string; purpose: CodePurpose; code: string }): Promise<void> {
  const live = await deps.codes.takeAttempt(input.phone, input.purpose, deps.clock.now(), MAX_VERIFY_ATTEMPTS);
  if (!live) throw wrongCodeError();
  if (!sameHash(live.codeHash, hashCode(deps.secret, input.phone, input.purpose, input.code))) throw wrongCodeError();
  if (!(await deps.codes.consume(live.id))) throw wrongCodeError();
}
