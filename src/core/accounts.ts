/** Registering, logging in and out, and changing passwords of buyers and admins. */
import type { AbuseLimits } from './abuse-limits.ts';
import { hashPassword, needsRehash, OWASP_SCRYPT, verifyPassword, type ScryptParams, type TokenSigner } from './credentials.ts';
import { SeckillError } from './errors.ts';
import type { Clock, UserStore } from './ports.ts';
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
  /** scrypt parameters of new hashes (OWASP's by default); a stored hash with others is rehashed on login. */
  scrypt?: ScryptParams;
}

/** Where a request came from: the client address limits are counted by. */
export interface Origin {
  ip: string;
}

export interface Session {
  user: User;
  token: string;
  expiresAt: Date;
}

function session(deps: AccountsDeps, user: User): Session {
  const { token, expiresAt } = deps.signer.sign({ userId: user.id, role: user.role, version: user.tokenVersion }, deps.clock.now());
  return { user, token, expiresAt };
}

/**
 * Passwords a guessing script tries first (the head of the public leaked-password lists, and the shapes
 * people make from a phone number). One of these is refused, whatever its length.
 */
const COMMON_PASSWORDS = new Set([
  '12345678', '123456789', '1234567890', '12345678910', '87654321', '11111111', '00000000', '88888888',
  '66666666', '99999999', '11223344', '12341234', '123123123', '147258369', '1qaz2wsx', '1q2w3e4r',
  '1q2w3e4r5t', 'qwertyui', 'qwertyuiop', 'qwerty123', 'asdfghjk', 'zxcvbnm1', 'password', 'password1',
  'password123', 'passw0rd', 'p@ssw0rd', 'iloveyou', 'princess', 'sunshine', 'football', 'baseball',
  'welcome1', 'admin123', 'administrator', 'abcd1234', 'abc12345', 'aa123456', 'a1234567', 'woaini1314',
  '5201314520', 'qq123456', 'abcdefgh', 'letmein1', 'changeme', 'trustno1', 'superman', 'computer',
]);

/** A password a guessing script would not try first: not in the common list, not the phone number itself. */
export function assertPasswordAcceptable(password: string, phone: string): void {
  const lower = password.toLowerCase();
  const digits = phone.replace(/\D/g, '');
  if (COMMON_PASSWORDS.has(lower) || lower === digits || lower === digits.slice(-8) || /^(.)\1+$/.test(password)) {
    throw new SeckillError('INVALID_INPUT', 'This password is too easy to guess; choose another.', {
      details: { fields: ['password'], problems: [{ field: 'password', problem: 'too common' }] },
    });
  }
}

/** RATE_LIMITED with the wait, or nothing: asked before any scrypt is spent on an attempt. */
async function assertMayTry(deps: AccountsDeps, origin: Origin | undefined, phone: string): Promise<void> {
  if (!deps.limits || !origin) return;
  const wait = await deps.limits.beforeAuth(origin.ip, phone);
  if (wait > 0) {
    throw new SeckillError('RATE_LIMITED', 'Too many attempts; wait a moment and try again.', { details: { retryAfterSeconds: wait } });
  }
}

export async function register(
  deps: AccountsDeps,
  input: { phone: string; password: string; nickname?: string | undefined },
  origin?: Origin,
): Promise<Session> {
  await assertMayTry(deps, origin, input.phone);
  assertPasswordAcceptable(input.password, input.phone);
  const user = await deps.users.create({
    phone: input.phone,
    nickname: input.nickname ?? defaultNickname(input.phone),
    passwordHash: await hashPassword(input.password, deps.scrypt),
    role: 'user',
  });
  if (!user) throw new SeckillError('PHONE_TAKEN', 'This phone number is already registered.');
  return session(deps, user);
}

export async function login(deps: AccountsDeps, input: { phone: string; password: string }, origin?: Origin): Promise<Session> {
  await assertMayTry(deps, origin, input.phone);
  const found = await deps.users.findByPhone(input.phone);
  // The same answer and roughly the same work for an unknown phone and a wrong password.
  const ok = await verifyPassword(input.password, found?.passwordHash ?? (await dummyHash(deps.scrypt)));
  if (!found || !ok) {
    if (deps.limits && origin) await deps.limits.loginFailed(origin.ip, input.phone);
    throw new SeckillError('UNAUTHORIZED', 'Wrong phone number or password.');
  }
  if (deps.limits && origin) await deps.limits.loginSucceeded(origin.ip, input.phone);
  const { passwordHash, ...user } = found;
  // A hash from weaker parameters is replaced now that the password is known (the same password: no logout),
  // only if it is still the one read: a password change that landed while this login hashed stands.
  if (needsRehash(passwordHash, deps.scrypt ?? OWASP_SCRYPT)) {
    await deps.users.replaceHashIf(user.id, passwordHash, await hashPassword(input.password, deps.scrypt));
  }
  return session(deps, user);
}

/** End every session of the user: every token issued before now stops working. */
export async function logout(deps: AccountsDeps, userId: number, role: Role): Promise<void> {
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
  await assertMayTry(deps, origin, known.phone);
  const found = await deps.users.findByPhone(known.phone);
  if (!found || !(await verifyPassword(input.oldPassword, found.passwordHash))) {
    if (deps.limits && origin) await deps.limits.loginFailed(origin.ip, known.phone);
    throw new SeckillError('UNAUTHORIZED', 'The current password is wrong.');
  }
  assertPasswordAcceptable(input.newPassword, known.phone);
  await deps.users.setPasswordHash(userId, await hashPassword(input.newPassword, deps.scrypt), { bump: true });
  const user = await deps.users.findById(userId);
  if (!user) throw new SeckillError('UNAUTHORIZED', 'This account no longer exists.');
  deps.versions?.remember(userId, { role: user.role, tokenVersion: user.tokenVersion });
  return session(deps, user);
}

/** Create or update an account with a given role (the admin account at start). */
export async function ensureAccount(
  deps: Pick<AccountsDeps, 'users' | 'scrypt'>,
  input: { phone: string; password: string; nickname: string; role: Role },
): Promise<User> {
  // An account already holding this password and role is left alone: rewriting it would end its sessions.
  const found = await deps.users.findByPhone(input.phone);
  if (found && found.role === input.role && !needsRehash(found.passwordHash, deps.scrypt ?? OWASP_SCRYPT) && (await verifyPassword(input.password, found.passwordHash))) {
    const { passwordHash: _, ...user } = found;
    return user;
  }
  return deps.users.upsert({ phone: input.phone, nickname: input.nickname, role: input.role, passwordHash: await hashPassword(input.password, deps.scrypt) });
}

const defaultNickname = (phone: string) => `buyer-${phone.slice(-4)}`;

// A hash of a random password at the current parameters, so an unknown phone costs one scrypt like a known one.
const dummies = new Map<string, Promise<string>>();
function dummyHash(params: ScryptParams = OWASP_SCRYPT): Promise<string> {
  const key = `${params.N}$${params.r}$${params.p}`;
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
