/**
 * Password hashes: argon2id at OWASP's parameters for every new hash; scrypt hashes of earlier versions
 * still verify and are replaced at the next good login (needsRehash). Hashing runs on libuv's thread pool
 * (the binding's async calls, like node:crypto's scrypt), never on the event loop.
 *
 * Why argon2id over scrypt at OWASP's figures: the same protection (memory-hard, OWASP's minimum for each)
 * for about a tenth of the CPU per login (docs/security-logins.md has the measured figures), so a login storm
 * before a sale needs a core where it needed ten.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { hash as argon2Hash, parseOptions, verify as argon2Verify } from '@node-rs/argon2';

export interface Argon2Params {
  /** Memory per hash in KiB (`m`). */
  memoryKiB: number;
  /** Passes over the memory (`t`). */
  time: number;
  /** Lanes (`p`). */
  parallelism: number;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** New hashes are argon2id; scrypt parameters make a hash of the earlier scheme (tests of the upgrade). */
export type PasswordHashParams = Argon2Params | ScryptParams;

/** OWASP's argon2id parameters (Password Storage Cheat Sheet): m = 19 MiB, t = 2, p = 1. */
export const OWASP_ARGON2ID: Argon2Params = Object.freeze({ memoryKiB: 19 * 1024, time: 2, parallelism: 1 });
/** OWASP's scrypt parameters, the earlier default: N = 2^17, r = 8, p = 1 (128 MiB per hash). */
export const OWASP_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

const KEYLEN = 32;
/** A stored hash asking for more than this is refused unverified: a planted row must not cost a GiB. */
const MAX_ARGON2_KIB = 256 * 1024;

const isScrypt = (params: PasswordHashParams): params is ScryptParams => 'N' in params;

function scryptAsync(password: string, salt: Buffer, keylen: number, { N, r, p }: ScryptParams): Promise<Buffer> {
  // Node refuses a hash needing more than maxmem (32 MiB by default); scrypt needs 128·N·r bytes.
  const maxmem = 256 * N * r + 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), or `scrypt$N$r$p$salt$hash` given scrypt parameters. */
export async function hashPassword(password: string, params: PasswordHashParams = OWASP_ARGON2ID): Promise<string> {
  if (isScrypt(params)) {
    const salt = randomBytes(16);
    const key = await scryptAsync(password, salt, KEYLEN, params);
    return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
  }
  // The binding's default algorithm is argon2id (its `Algorithm` is a const enum, which isolated modules cannot
  // read); the hash string says which one was used, and the tests check it.
  return argon2Hash(password, { memoryCost: params.memoryKiB, timeCost: params.time, parallelism: params.parallelism, outputLen: KEYLEN });
}

const parseScrypt = (stored: string) => {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const sane = Number.isInteger(params.N) && params.N > 1 && params.N <= 2 ** 20 && params.r >= 1 && params.r <= 32 && params.p >= 1 && params.p <= 16;
  return scheme === 'scrypt' && salt && hash && sane ? { params, salt, hash } : null;
};

const parseArgon2 = (stored: string): Argon2Params | null => {
  if (!stored.startsWith('$argon2id$')) return null;
  try {
    const o = parseOptions(stored);
    const sane = o.memoryCost <= MAX_ARGON2_KIB && o.timeCost >= 1 && o.timeCost <= 20 && o.parallelism >= 1 && o.parallelism <= 16;
    return sane ? { memoryKiB: o.memoryCost, time: o.timeCost, parallelism: o.parallelism } : null;
  } catch {
    return null;
  }
};

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (parseArgon2(stored)) return argon2Verify(stored, password).catch(() => false);
  const parsed = parseScrypt(stored);
  if (!parsed) return false;
  const expected = Buffer.from(parsed.hash, 'base64url');
  const key = await scryptAsync(password, Buffer.from(parsed.salt, 'base64url'), expected.length, parsed.params);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A stored hash of another scheme or other parameters (older, weaker): rehash it on the next good login. */
export function needsRehash(stored: string, params: PasswordHashParams = OWASP_ARGON2ID): boolean {
  if (isScrypt(params)) {
    const parsed = parseScrypt(stored);
    return !parsed || parsed.params.N !== params.N || parsed.params.r !== params.r || parsed.params.p !== params.p;
  }
  const parsed = parseArgon2(stored);
  return !parsed || parsed.memoryKiB !== params.memoryKiB || parsed.time !== params.time || parsed.parallelism !== params.parallelism;
}
