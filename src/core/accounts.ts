/** Registering, logging in and out, refreshing sessions, and changing passwords of buyers and admins. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AbuseLimits } from './abuse-limits.ts';
import { hashPassword, needsRehash, OWASP_ARGON2ID, verifyPassword, type PasswordHashParams, type TokenSigner } from './credentials.ts';
import { SeckillError } from './errors.ts';
import { redeemCode, wrongCodeError, type PhoneCodeDeps } from './phone-codes.ts';
import { assertPasswordStrong } from './password-strength.ts';
import type { Clock } from './ports/timers.ts';
import type { UserStore } from './ports/user-store.ts';
import type { Role, User } from './model.ts';
import type { TokenVersions } from './token-versions.ts';

export interface AccountsDeps {
  users: UserStore;
  signer: TokenSigner;
  clock: Clock;
  /** Attempt limits and the failed-login backoff; absent = none. */
  limits?: AbuseLimits;
  /** Told of version changes, so this process refuses old tokens at once. */
  versions?: TokenVersions;
  /** Parameters of new hashes (OWASP's argon2id by default); a stored hash with others, or scrypt, is rehashed on login. */
  hashParams?: PasswordHashParams;
  /** Lifetime of refresh tokens; absent or 0 = sessions carry none. */
  refreshTtlSeconds?: number;
  /** One-time codes sent to phones (password reset needs them); absent = no reset. */
  codes?: Pick<PhoneCodeDeps, 'codes' | 'secret'>;
  /** Register needs a code proving the phone is the buyer's (SECKILL_PHONE_VERIFICATION=on). */
  registerNeedsCode?: boolean;
}

/** Where a request came from: the client address limits are counted by. */
export interface Origin {
  ip: string;
}

export interface Session {
  user: User;
  token: string;
  expiresAt: Date;
  /** One use: trade it at POST /api/auth/refresh for a new session (and a new refresh token). */
  refreshToken?: string;
  refreshExpiresAt?: Date;
}

/** A refresh token is 256 random bits; the store keeps its SHA-256 (no slow hash needed at that entropy). */
const refreshHash = (token: string) => createHash('sha256').update(token).digest('base64url');

function newRefresh(deps: AccountsDeps, now: Date) {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: refreshHash(token), expiresAt: new Date(now.getTime() + (deps.refreshTtlSeconds ?? 0) * 1000) };
}

/** An access token and, when refresh tokens are on, the first refresh token of a new family. */
async function session(deps: AccountsDeps, user: User): Promise<Session> {
  const now = deps.clock.now();
  const { token, expiresAt } = deps.signer.sign({ userId: user.id, role: user.role, version: user.tokenVersion }, now);
  if (!deps.refreshTtlSeconds) return { user, token, expiresAt };
  const refresh = newRefresh(deps, now);
  await deps.users.addRefreshToken({ tokenHash: refresh.tokenHash, userId: user.id, family: randomUUID(), tokenVersion: user.tokenVersion, expiresAt: refresh.expiresAt });
  return { user, token, expiresAt, refreshToken: refresh.token, refreshExpiresAt: refresh.expiresAt };
}

/**
 * Trade a refresh token for a new session: the token is used up and its successor joins its family. A token
 * presented a second time (stolen and used by two parties) revokes the family, so neither party keeps it; a
 * token issued before a logout, password or role change is refused.
 */
export async function refreshSession(deps: AccountsDeps, refreshToken: string): Promise<Session> {
  const refused = () => new SeckillError('UNAUTHORIZED', 'This session has ended; log in again.');
  if (!deps.refreshTtlSeconds) throw refused();
  const now = deps.clock.now();
  const next = newRefresh(deps, now);
  const outcome = await deps.users.rotateRefreshToken(refreshHash(refreshToken), { tokenHash: next.tokenHash, expiresAt: next.expiresAt }, now);
  if (outcome === null || outcome === 'reused') throw refused();
  const user = await deps.users.findById(outcome.userId);
  if (!user || user.tokenVersion !== outcome.tokenVersion) throw refused();
  const { token, expiresAt } = deps.signer.sign({ userId: user.id, role: user.role, version: user.tokenVersion }, now);
  return { user, token, expiresAt, refreshToken: next.token, refreshExpiresAt: next.expiresAt };
}

/** RATE_LIMITED with the wait, or nothing: asked before any hash is spent on an attempt. */
async function assertMayTry(deps: AccountsDeps, origin: Origin | undefined, phone: string, what: 'login' | 'register'): Promise<void> {
  if (!deps.limits || !origin) return;
  const wait = what === 'login' ? await deps.limits.beforeLogin(origin.ip, phone) : await deps.limits.beforeRegister(origin.ip, phone);
  if (wait > 0) {
    throw new SeckillError('RATE_LIMITED', 'Too many attempts; wait a moment and try again.', { details: { retryAfterSeconds: wait } });
  }
}

export async function register(
  deps: AccountsDeps,
  input: { phone: string; password: string; nickname?: string | undefined; code?: string | undefined },
  origin?: Origin,
): Promise<Session> {
  await assertMayTry(deps, origin, input.phone, 'register');
  const nickname = input.nickname ?? defaultNickname(input.phone);
  await assertPasswordStrong(input.password, { phone: input.phone, nickname });
  // The code comes before the phone is looked at: until it is right, a taken phone answers like a free one.
  if (deps.registerNeedsCode) await redeem(deps, { phone: input.phone, purpose: 'register', code: input.code });
  const user = await deps.users.create({
    phone: input.phone,
    nickname,
    passwordHash: await hashPassword(input.password, deps.hashParams),
    role: 'user',
  });
  if (!user) throw new SeckillError('PHONE_TAKEN', 'This phone number is already registered.');
  return session(deps, user);
}

async function redeem(deps: AccountsDeps, input: { phone: string; purpose: 'register' | 'reset'; code: string | undefined }): Promise<void> {
  if (!deps.codes) throw new SeckillError('INTERNAL', 'Phone codes are not configured.');
  if (input.code === undefined) {
    throw new SeckillError('INVALID_INPUT', 'Enter the code sent to your phone (POST /api/auth/sms-code).', {
      details: { fields: ['code'], problems: [{ field: 'code', problem: 'required' }] },
    });
  }
  await redeemCode({ ...deps.codes, clock: deps.clock }, { phone: input.phone, purpose: input.purpose, code: input.code });
}

/**
 * A forgotten password: the code sent to the phone proves the account is the caller's. The new password
 * replaces the old and every token issued before stops working (whoever knew the old password is logged out).
 */
export async function resetPassword(deps: AccountsDeps, input: { phone: string; code: string; password: string }, origin?: Origin): Promise<void> {
  // Counted like a register: a code guessed at costs the same budget.
  await assertMayTry(deps, origin, input.phone, 'register');
  await assertPasswordStrong(input.password, { phone: input.phone });
  await redeem(deps, { phone: input.phone, purpose: 'reset', code: input.code });
  const found = await deps.users.findByPhone(input.phone);
  // No code is ever sent for a phone without an account, so this is the same answer as a wrong code.
  if (!found) throw wrongCodeError();
  await deps.users.setPasswordHash(found.id, await hashPassword(input.password, deps.hashParams), { bump: true });
  const user = await deps.users.findById(found.id);
  if (user) deps.versions?.remember(user.id, { role: user.role, tokenVersion: user.tokenVersion });
  // The owner proved who they are: a run of failed logins (perhaps someone else's guesses) no longer blocks them.
  if (deps.limits && origin) await deps.limits.loginSucceeded(origin.ip, input.phone);
}

export async function login(deps: AccountsDeps, input: { phone: string; password: string }, origin?: Origin): Promise<Session> {
  await assertMayTry(deps, origin, input.phone, 'login');
  const found = await deps.users.findByPhone(input.phone);
  // The same answer and roughly the same work for an unknown phone and a wrong password.
  const ok = await verifyPassword(input.password, found?.passwordHash ?? (await dummyHash(deps.hashParams)));
  if (!found || !ok) {
    if (deps.limits && origin) await deps.limits.loginFailed(origin.ip, input.phone);
    throw new SeckillError('UNAUTHORIZED', 'Wrong phone number or password.');
  }
  if (deps.limits && origin) await deps.limits.loginSucceeded(origin.ip, input.phone);
  const { passwordHash, ...user } = found;
  // A hash of the older scheme or weaker parameters is replaced now that the password is known (the same
  // password: no logout), only if it is still the one read: a password change that landed while this login
  // hashed stands.
  if (needsRehash(passwordHash, deps.hashParams ?? OWASP_ARGON2ID)) {
    await deps.users.replaceHashIf(user.id, passwordHash, await hashPassword(input.password, deps.hashParams));
  }
  return session(deps, user);
}

/** End every session of the user: every token issued before now stops working, refresh tokens included. */
export async function logout(deps: AccountsDeps, userId: number, role: Role): Promise<void> {
  await deps.users.revokeRefreshTokens(userId, deps.clock.now());
  const version = await deps.users.bumpTokenVersion(userId);
  deps.versions?.remember(userId, version === null ? null : { role, tokenVersion: version });
}

/**
 * Change the password (the old one must be right): every earlier token stops working, and the answer is a
 * new session, so the page that asked stays logged in.
 */
export async function changePassword(
  deps: AccountsDeps,
  userId: number,
  input: { oldPassword: string; newPassword: string },
  origin?: Origin,
): Promise<Session> {
  const known = await deps.users.findById(userId);
  if (!known) throw new SeckillError('UNAUTHORIZED', 'This account no longer exists.');
  await assertMayTry(deps, origin, known.phone, 'login');
  const found = await deps.users.findByPhone(known.phone);
  if (!found || !(await verifyPassword(input.oldPassword, found.passwordHash))) {
    if (deps.limits && origin) await deps.limits.loginFailed(origin.ip, known.phone);
    throw new SeckillError('UNAUTHORIZED', 'The current password is wrong.');
  }
  await assertPasswordStrong(input.newPassword, { phone: known.phone, nickname: known.nickname }, 'newPassword');
  await deps.users.revokeRefreshTokens(userId, deps.clock.now());
  await deps.users.setPasswordHash(userId, await hashPassword(input.newPassword, deps.hashParams), { bump: true });
  const user = await deps.users.findById(userId);
  if (!user) throw new SeckillError('UNAUTHORIZED', 'This account no longer exists.');
  deps.versions?.remember(userId, { role: user.role, tokenVersion: user.tokenVersion });
  return session(deps, user);
}

/** Create or update an account with a given role (the admin account at start). */
export async function ensureAccount(
  deps: Pick<AccountsDeps, 'users' | 'hashParams'>,
  input: { phone: string; password: string; nickname: string; role: Role },
): Promise<User> {
  // An account already holding this password and role is left alone: rewriting it would end its sessions.
  const found = await deps.users.findByPhone(input.phone);
  if (found && found.role === input.role && !needsRehash(found.passwordHash, deps.hashParams ?? OWASP_ARGON2ID) && (await verifyPassword(input.password, found.passwordHash))) {
    const { passwordHash: _, ...user } = found;
    return user;
  }
  return deps.users.upsert({ phone: input.phone, nickname: input.nickname, role: input.role, passwordHash: await hashPassword(input.password, deps.hashParams) });
}

const defaultNickname = (phone: string) => `buyer-${phone.slice(-4)}`;

// A hash of a random password at the current parameters, so an unknown phone costs one hash like a known one.
const dummies = new Map<string, Promise<string>>();
function dummyHash(params: PasswordHashParams = OWASP_ARGON2ID): Promise<string> {
  const key = JSON.stringify(params);
  let hash = dummies.get(key);
  if (!hash) dummies.set(key, (hash = hashPassword(Math.random().toString(36), params)));
  return hash;
}

/** The account behind a valid token; UNAUTHORIZED when it no longer exists. */
export async function currentUser(deps: Pick<AccountsDeps, 'users'>, userId: number): Promise<User> {
  const user = await deps.users.findById(userId);
  if (!user) throw new SeckillError('UNAUTHORIZED', 'This account no longer exists.');
  return user;
}
