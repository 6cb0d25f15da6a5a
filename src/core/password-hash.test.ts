import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, OWASP_ARGON2ID, OWASP_SCRYPT, verifyPassword } from './password-hash.ts';

const CHEAP = { memoryKiB: 1024, time: 1, parallelism: 1 };
const CHEAP_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

describe('password hashes', () => {
  it('a hashed password verifies, a wrong one does not, and two hashes of one password differ', async () => {
    const a = await hashPassword('correct horse', CHEAP);
    const b = await hashPassword('correct horse', CHEAP);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('wrong horse', a)).toBe(false);
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
    expect(await verifyPassword('x', '$argon2id$v=19$m=1024,t=1,p=1$broken')).toBe(false);
  });

  it("hashes with argon2id at OWASP's parameters by default (m = 19 MiB, t = 2, p = 1), kept in the hash string", async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(needsRehash(hash)).toBe(false);
    expect(OWASP_ARGON2ID).toEqual({ memoryKiB: 19456, time: 2, parallelism: 1 });
  });

  it('a scrypt hash of an earlier version still verifies and asks to be rehashed as argon2id', async () => {
    const older = await hashPassword('correct horse', CHEAP_SCRYPT);
    expect(older.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('correct horse', older)).toBe(true);
    expect(await verifyPassword('wrong horse', older)).toBe(false);
    expect(needsRehash(older)).toBe(true);
    expect(needsRehash(older, CHEAP)).toBe(true);
    expect(needsRehash(older, CHEAP_SCRYPT)).toBe(false);
    expect(needsRehash('garbage', OWASP_SCRYPT)).toBe(true);
    expect(needsRehash('garbage')).toBe(true);
  });

  it('an argon2id hash of other parameters verifies and asks to be rehashed', async () => {
    const weaker = await hashPassword('correct horse', CHEAP);
    expect(await verifyPassword('correct horse', weaker)).toBe(true);
    expect(needsRehash(weaker)).toBe(true);
    expect(needsRehash(weaker, CHEAP)).toBe(false);
    expect(needsRehash(weaker, { ...CHEAP, time: 2 })).toBe(true);
  });

  it('a stored hash with absurd parameters is refused without computing it', async () => {
    expect(await verifyPassword('x', 'scrypt$1073741824$8$1$AAAA$AAAA')).toBe(false);
    const huge = (await hashPassword('x', CHEAP)).replace('m=1024', `m=${4 * 1024 * 1024}`);
    expect(await verifyPassword('x', huge)).toBe(false);
  });

  it('hashing runs off the event loop: timers fire while the hashes are computed', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let done = false;
    const hashing = Promise.all(Array.from({ length: 4 }, () => hashPassword('correct horse'))).then(() => (done = true));
    while (!done && ticks < 3) await new Promise((resolve) => setTimeout(resolve, 1));
    clearInterval(timer);
    // Computed on the event loop, the hashes would have finished before the first timer could fire.
    expect(done).toBe(false);
    await hashing;
  });
});
