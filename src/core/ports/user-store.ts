import type { Role, User } from '../model.ts';

export interface UserStore {
  /** Returns null when the phone is taken. */
  create(user: { phone: string; nickname: string; passwordHash: string; role: Role }): Promise<User | null>;
  /** Create or update (password, role) by phone. */
  upsert(user: { phone: string; nickname: string; passwordHash: string; role: Role }): Promise<User>;
  findByPhone(phone: string): Promise<(User & { passwordHash: string }) | null>;
  findById(id: number): Promise<User | null>;
  /** Role and token version of each id that exists (one read for many ids). */
  tokenVersionsOf(ids: readonly number[]): Promise<{ id: number; role: Role; tokenVersion: number }[]>;
  /** Raise the user's token version (logout of every session); the new version, null when no such user. */
  bumpTokenVersion(id: number): Promise<number | null>;
  /** Replace the password hash. `bump`: also raise the token version (a password change, not a rehash). */
  setPasswordHash(id: number, passwordHash: string, opts: { bump: boolean }): Promise<void>;
  /** Keep a new refresh token (by its hash) of `family`. */
  addRefreshToken(token: { tokenHash: string; userId: number; family: string; tokenVersion: number; expiresAt: Date }): Promise<void>;
  /**
   * Use a refresh token once, atomically: a live one (unused, unrevoked, unexpired at `now`) is marked used and
   * `next` joins its family: its user and the token version it was issued at. A used one presented again revokes its whole family: 'reused'.
   * Unknown, revoked or expired: null. Of two concurrent uses of one token exactly one gets the user.
   */
  rotateRefreshToken(tokenHash: string, next: { tokenHash: string; expiresAt: Date }, now: Date): Promise<{ userId: number; tokenVersion: number } | 'reused' | null>;
  /** Revoke every refresh token of the user (logout, password change). */
  revokeRefreshTokens(userId: number, now: Date): Promise<void>;
  /**
   * A rehash: replace the hash only if the stored one is still `expectedOldHash` (compare-and-set), token
   * version kept. A password change that landed since the hash was read stands. True when replaced.
   */
  replaceHashIf(id: number, expectedOldHash: string, newHash: string): Promise<boolean>;
}
