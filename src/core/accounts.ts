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

export async function register(
  deps: AccountsDeps,
  input: { phone: string; password: string; nickname?: string | undefined },
): Promise<Session> {
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
