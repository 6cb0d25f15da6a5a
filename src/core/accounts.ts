/** Registering and logging in buyers and admins. */
import { hashPassword, verifyPassword, type TokenSigner } from './credentials.ts';
import { SeckillError } from './errors.ts';
import type { Clock, Role, User, UserStore } from './ports.ts';

export interface AccountsDeps {
  users: UserStore;
  signer: TokenSigner;
  clock: Clock;
}

export interface Session {
  user: User;
  token: string;
  expiresAt: Date;
}

function session(deps: AccountsDeps, user: User): Session {
  const { token, expiresAt } = deps.signer.sign({ userId: user.id, role: user.role }, deps.clock.now());
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

export async function register(
  deps: AccountsDeps,
  input: { phone: string; password: string; nickname?: string | undefined },
): Promise<Session> {
  assertPasswordAcceptable(input.password, input.phone);
  const user = await deps.users.create({
    phone: input.phone,
    nickname: input.nickname ?? defaultNickname(input.phone),
    passwordHash: await hashPassword(input.password),
    role: 'user',
  });
  if (!user) throw new SeckillError('PHONE_TAKEN', 'This phone number is already registered.');
  return session(deps, user);
}

export async function login(deps: AccountsDeps, input: { phone: string; password: string }): Promise<Session> {
  const found = await deps.users.findByPhone(input.phone);
  // The same answer and roughly the same work for an unknown phone and a wrong password.
  const ok = await verifyPassword(input.password, found?.passwordHash ?? DUMMY_HASH);
  if (!found || !ok) throw new SeckillError('UNAUTHORIZED', 'Wrong phone number or password.');
  const { passwordHash: _, ...user } = found;
  return session(deps, user);
}

/** Create or update an account with a given role (the admin account at start). */
export async function ensureAccount(
  deps: Pick<AccountsDeps, 'users'>,
  input: { phone: string; password: string; nickname: string; role: Role },
): Promise<User> {
  return deps.users.upsert({ phone: input.phone, nickname: input.nickname, role: input.role, passwordHash: await hashPassword(input.password) });
}

const defaultNickname = (phone: string) => `buyer-${phone.slice(-4)}`;

// A valid hash of a random password, so an unknown phone costs one scrypt like a known one.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
