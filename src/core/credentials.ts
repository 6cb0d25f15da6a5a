/**
 * Signed expiring tokens (HMAC-SHA256); the password hashes are in password-hash.ts.
 * A token carries the user id, role and token version, so its signature is checked with no I/O; whether the
 * version is still the user's is asked of a short cache (token-versions.ts).
 */
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { Role } from './model.ts';

export { hashPassword, needsRehash, OWASP_ARGON2ID, OWASP_SCRYPT, verifyPassword } from './password-hash.ts';
export type { Argon2Params, PasswordHashParams, ScryptParams } from './password-hash.ts';

export interface TokenClaims {
  userId: number;
  role: Role;
  /** The user's token version when the token was issued. */
  version: number;
  /** Expiry, epoch seconds. */
  exp: number;
}

export interface TokenSigner {
  /** `version` defaults to 0, a new account's. */
  sign(claims: { userId: number; role: Role; version?: number }, now: Date): { token: string; expiresAt: Date };
  /** The claims of a well-signed, unexpired token; null otherwise. */
  verify(token: string, now: Date): TokenClaims | null;
}

export function createTokenSigner(secret: string, ttlSeconds: number): TokenSigner {
  // The key prepared once: a text key is converted on every HMAC (about a sixth of one, measured).
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  return {
    sign({ userId, role, version = 0 }, now) {
      const exp = Math.floor(now.getTime() / 1000) + ttlSeconds;
      const payload = Buffer.from(JSON.stringify({ u: userId, r: role, v: version, e: exp })).toString('base64url');
      return { token: `${payload}.${mac(payload)}`, expiresAt: new Date(exp * 1000) };
    },
    verify(token, now) {
      const dot = token.indexOf('.');
      if (dot <= 0 || token.length > 512) return null;
      const payload = token.slice(0, dot);
      // The signature's text is compared, not its decoded bytes: base64url decoding ignores the spare bits
      // of the last character, so decoding would accept several spellings of one signature.
      const given = Buffer.from(token.slice(dot + 1), 'latin1');
      const expected = Buffer.from(mac(payload), 'latin1');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      let body: { u?: unknown; r?: unknown; v?: unknown; e?: unknown };
      try {
        body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof body;
      } catch {
        return null;
      }
      if (typeof body.u !== 'number' || (body.r !== 'user' && body.r !== 'admin') || typeof body.e !== 'number') return null;
      // A token from before versions existed counts as version 0, like the account it was issued for.
      const version = body.v === undefined ? 0 : body.v;
      if (typeof version !== 'number' || !Number.isInteger(version)) return null;
      if (body.e * 1000 <= now.getTime()) return null;
      return { userId: body.u, role: body.r, version, exp: body.e };
    },
  };
}

/**
 * Remembers tokens that verified, by their exact text, so a buyer pressing again costs a Map lookup
 * instead of an HMAC. Only verified tokens are kept, so a token differing in any character is a miss and is
 * verified in full. Expiry is checked again on every hit.
 *
 * Bounded by two generations of at most `maxEntries / 2` each: when the young one is full it becomes the
 * old one and the previous old one is dropped whole; a hit in the old one moves the token to the young one.
 * So tokens in use stay, and no single eviction walks the map. (Evicting the oldest entry of one big Map
 * with `keys().next()` walks over every entry deleted before it: measured 25–130 µs per request once a
 * burst of 100,000 buyers had filled it.)
 */
export function rememberVerifiedTokens(signer: TokenSigner, maxEntries = 100_000): TokenSigner {
  const generation = Math.max(1, Math.floor(maxEntries / 2));
  let young = new Map<string, Readonly<TokenClaims>>();
  let old = new Map<string, Readonly<TokenClaims>>();
  const remember = (token: string, claims: Readonly<TokenClaims>): void => {
    if (young.size >= generation) {
      old = young;
      young = new Map();
    }
    young.set(token, claims);
  };
  return {
    sign: (claims, now) => signer.sign(claims, now),
    verify(token, now) {
      let known = young.get(token);
      if (!known) {
        known = old.get(token);
        if (known) {
          old.delete(token);
          remember(token, known);
        }
      }
      if (known) return known.exp * 1000 <= now.getTime() ? null : known;
      const claims = signer.verify(token, now);
      if (!claims) return null;
      const frozen = Object.freeze(claims);
      remember(token, frozen);
      return frozen;
    },
  };
}
