/**
 * Passwords (scrypt, salted, constant-time compare) and signed expiring tokens (HMAC-SHA256).
 * A token carries the user id and role, so verifying one needs no round trip to any store.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Role } from './ports.ts';

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url parts), so the parameters can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) }, (err, k) =>
      err ? reject(err) : resolve(k),
    ),
  );
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export interface TokenClaims {
  userId: number;
  role: Role;
  /** Expiry, epoch seconds. */
  exp: number;
}

export interface TokenSigner {
  sign(claims: { userId: number; role: Role }, now: Date): { token: string; expiresAt: Date };
  /** The claims of a well-signed, unexpired token; null otherwise. */
  verify(token: string, now: Date): TokenClaims | null;
}

export function createTokenSigner(secret: string, ttlSeconds: number): TokenSigner {
  const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');
  return {
    sign({ userId, role }, now) {
      const exp = Math.floor(now.getTime() / 1000) + ttlSeconds;
      const payload = Buffer.from(JSON.stringify({ u: userId, r: role, e: exp })).toString('base64url');
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
      let body: { u?: unknown; r?: unknown; e?: unknown };
      try {
        body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return null;
      }
      if (typeof body.u !== 'number' || (body.r !== 'user' && body.r !== 'admin') || typeof body.e !== 'number') return null;
      if (body.e * 1000 <= now.getTime()) return null;
      return { userId: body.u, role: body.r, exp: body.e };
    },
  };
}

/**
 * Remembers tokens that verified, by their exact text, so a buyer pressing again costs a Map lookup
 * instead of an HMAC. Only verified tokens are kept, so a token differing in any character is a miss and is
 * verified in full. Expiry is checked again on every hit. At most `maxEntries`, least recently used first out.
 */
export function rememberVerifiedTokens(signer: TokenSigner, maxEntries = 100_000): TokenSigner {
  const verified = new Map<string, Readonly<TokenClaims>>();
  return {
    sign: (claims, now) => signer.sign(claims, now),
    verify(token, now) {
      const known = verified.get(token);
      if (known) {
        verified.delete(token);
        if (known.exp * 1000 <= now.getTime()) return null;
        verified.set(token, known);
        return known;
      }
      const claims = signer.verify(token, now);
      if (!claims) return null;
      if (verified.size >= maxEntries) verified.delete(verified.keys().next().value!);
      const frozen = Object.freeze(claims);
      verified.set(token, frozen);
      return frozen;
    },
  };
}
