import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLimiters } from '../adapters/limiter/flexible-limiter.ts';
import { createPgliteDatabase } from '../adapters/database/pglite-database.ts';
import { migrate } from '../adapters/database/migrate.ts';
import { createSqlPhoneCodeStore } from '../adapters/phone-code-store/sql-phone-code-store.ts';
import { createOutboxSmsSender } from '../adapters/sms-sender/outbox-sms-sender.ts';
import { createSqlUserStore } from '../adapters/user-store/sql-user-store.ts';
import { login, register, resetPassword, type AccountsDeps } from './accounts.ts';
import { createTokenSigner } from './credentials.ts';
import {
  ACCOUNT_EXISTS_TEXT,
  CODE_TTL_MS,
  MAX_VERIFY_ATTEMPTS,
  NO_ACCOUNT_TEXT,
  createCodeSendLimits,
  hashCode,
  newCode,
  redeemCode,
  sameHash,
  sendCode,
  type PhoneCodeDeps,
} from './phone-codes.ts';
import type { SmsOutbox } from './ports/sms-sender.ts';
import { createTokenVersions } from './token-versions.ts';
import { systemTimers } from '../adapters/timers/system-timers.ts';

describe('code rules', () => {
  it('a code is six digits, leading zeros kept, drawn evenly enough that 2,000 draws barely repeat', () => {
    const codes = Array.from({ length: 2000 }, newCode);
    expect(codes.every((c) => /^\d{6}$/.test(c))).toBe(true);
    expect(new Set(codes).size).toBeGreaterThan(1980);
    expect(codes.some((c) => c.startsWith('0'))).toBe(true);
  });

  it('the stored hash depends on the secret, the phone and the purpose, and does not contain the code', () => {
    const h = hashCode('k1', '13900000001', 'register', '123456');
    expect(h).not.toContain('123456');
    expect(sameHash(h, hashCode('k1', '13900000001', 'register', '123456'))).toBe(true);
    for (const other of [hashCode('k2', '13900000001', 'register', '123456'), hashCode('k1', '13900000002', 'register', '123456'), hashCode('k1', '13900000001', 'reset', '123456')]) {
      expect(sameHash(h, other)).toBe(false);
    }
    expect(sameHash(h, h.slice(1))).toBe(false);
  });
});

describe('sending and redeeming codes on the embedded database', () => {
  let db: Awaited<ReturnType<typeof createPgliteDatabase>>;
  let deps: PhoneCodeDeps;
  let accounts: AccountsDeps;
  let outbox: SmsOutbox;
  let now = Date.parse('2026-12-06T12:00:00Z');
  const clock = { now: () => new Date(now) };
  let phones = 13600000000;
  const phone = () => String(++phones);
  let ips = 0;
  const origin = () => ({ ip: `10.0.0.${++ips}` });
  const lastText = async (p: string) => (await outbox.sentTo(p, 1))[0]?.text;
  const codeSentTo = async (p: string) => /\b(\d{6})\b/.exec((await lastText(p)) ?? '')?.[1];

  beforeAll(async () => {
    db = await createPgliteDatabase();
    await migrate(db);
    const users = createSqlUserStore(db);
    outbox = createOutboxSmsSender(db);
    deps = { codes: createSqlPhoneCodeStore(db), sms: outbox, users, clock, secret: 'code-secret', limits: createCodeSendLimits(createMemoryLimiters(), { ipPerHour: 3 }) };
    accounts = {
      users,
      clock,
      signer: createTokenSigner('s'.repeat(32), 3600),
      hashParams: { memoryKiB: 1024, time: 1, parallelism: 1 },
      versions: createTokenVersions(users, clock, { ttlMs: 60_000, timers: systemTimers }),
      codes: { codes: deps.codes, secret: deps.secret },
      registerNeedsCode: true,
    };
  });
  afterAll(() => db.close());

  it('a code sent to a new phone is redeemed once; the second use is a wrong code', async () => {
    const p = phone();
    await sendCode(deps, { phone: p, purpose: 'register' }, origin());
    const code = (await codeSentTo(p))!;
    expect(code).toMatch(/^\d{6}$/);
    expect(JSON.stringify(await db.query('SELECT * FROM phone_codes WHERE phone = $1', [p]))).not.toContain(code);
    await expect(redeemCode(deps, { phone: p, purpose: 'register', code })).resolves.toBeUndefined();
    await expect(redeemCode(deps, { phone: p, purpose: 'register', code })).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { fields: ['code'] } });
  });

  it(`after ${MAX_VERIFY_ATTEMPTS} wrong guesses even the right code is refused`, async () => {
    const p = phone();
    await sendCode(deps, { phone: p, purpose: 'register' }, origin());
    const code = (await codeSentTo(p))!;
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < MAX_VERIFY_ATTEMPTS; i++) await expect(redeemCode(deps, { phone: p, purpose: 'register', code: wrong })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(redeemCode(deps, { phone: p, purpose: 'register', code })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('a code past its lifetime is refused; one of the other purpose is refused', async () => {
    const p = phone();
    await sendCode(deps, { phone: p, purpose: 'register' }, origin());
    const code = (await codeSentTo(p))!;
    await expect(redeemCode(deps, { phone: p, purpose: 'reset', code })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    now += CODE_TTL_MS;
    await expect(redeemCode(deps, { phone: p, purpose: 'register', code })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('a taken phone asking to register and an unknown phone asking to reset get a notice, no code', async () => {
    const taken = phone();
    await createSqlUserStore(db).create({ phone: taken, nickname: 'n', passwordHash: 'x', role: 'user' });
    await sendCode(deps, { phone: taken, purpose: 'register' }, origin());
    expect(await lastText(taken)).toBe(ACCOUNT_EXISTS_TEXT);
    const unknown = phone();
    await sendCode(deps, { phone: unknown, purpose: 'reset' }, origin());
    expect(await lastText(unknown)).toBe(NO_ACCOUNT_TEXT);
    expect(await db.query('SELECT 1 FROM phone_codes WHERE phone = ANY($1)', [[taken, unknown]])).toEqual([]);
  });

  it('a second code to one phone within a minute is RATE_LIMITED; so is a fourth code from one address within the hour', async () => {
    const p = phone();
    const ip = { ip: '10.9.9.9' };
    await sendCode(deps, { phone: p, purpose: 'register' }, ip);
    await expect(sendCode(deps, { phone: p, purpose: 'register' }, { ip: '10.9.9.8' })).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: expect.any(Number) } });
    await sendCode(deps, { phone: phone(), purpose: 'register' }, ip);
    await sendCode(deps, { phone: phone(), purpose: 'reset' }, ip);
    await expect(sendCode(deps, { phone: phone(), purpose: 'register' }, ip)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('register needs the code: without it, or with a wrong one, a taken phone answers exactly like a free one', async () => {
    const taken = phone();
    await createSqlUserStore(db).create({ phone: taken, nickname: 'n', passwordHash: 'x', role: 'user' });
    const free = phone();
    const answer = (p: string, code?: string) => register(accounts, { phone: p, password: 'good-pass-12', code }).catch((e: unknown) => JSON.stringify(e) + (e as Error).message);
    expect(await answer(taken)).toBe(await answer(free));
    expect(await answer(taken, '123456')).toBe(await answer(free, '123456'));
    await sendCode(deps, { phone: free, purpose: 'register' }, origin());
    const session = await register(accounts, { phone: free, password: 'good-pass-12', code: (await codeSentTo(free))! });
    expect(session.user.phone).toBe(free);
  });

  it('a reset sets the new password and ends every earlier session', async () => {
    const p = phone();
    await sendCode(deps, { phone: p, purpose: 'register' }, origin());
    const first = await register(accounts, { phone: p, password: 'first-pass-12', code: (await codeSentTo(p))! });
    await sendCode(deps, { phone: p, purpose: 'reset' }, origin());
    await expect(resetPassword(accounts, { phone: p, code: '999999' === (await codeSentTo(p)) ? '999998' : '999999', password: 'second-pass-12' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await resetPassword(accounts, { phone: p, code: (await codeSentTo(p))!, password: 'second-pass-12' });
    expect((await accounts.versions!.current(first.user.id))!.tokenVersion).toBeGreaterThan(first.user.tokenVersion);
    await expect(login(accounts, { phone: p, password: 'first-pass-12' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(login(accounts, { phone: p, password: 'second-pass-12' })).resolves.toMatchObject({ user: { id: first.user.id } });
  });
});
