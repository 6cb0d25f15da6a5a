import { describe, expect, it } from 'vitest';
import { createTokenSigner, hashPassword, verifyPassword } from './credentials.ts';

describe('passwords', () => {
  it('a hashed password verifies, a wrong one does not, and two hashes of one password differ', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('wrong horse', a)).toBe(false);
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
  });
});

describe('tokens', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const signer = createTokenSigner('s'.repeat(32), 60);

  it('a signed token verifies to its claims until it expires', () => {
    const { token, expiresAt } = signer.sign({ userId: 7, role: 'admin' }, now);
    expect(expiresAt.toISOString()).toBe('2026-01-01T00:01:00.000Z');
    expect(signer.verify(token, now)).toMatchObject({ userId: 7, role: 'admin' });
    expect(signer.verify(token, new Date(now.getTime() + 60_000))).toBeNull();
  });

  it('a token with a changed payload, another secret or garbage is refused', () => {
    const { token } = signer.sign({ userId: 7, role: 'user' }, now);
    const [, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ u: 7, r: 'admin', e: 9e9 })).toString('base64url') + '.' + sig;
    expect(signer.verify(forged, now)).toBeNull();
    expect(createTokenSigner('t'.repeat(32), 60).verify(token, now)).toBeNull();
    for (const junk of ['', '.', 'abc', 'a.b', token + 'x']) expect(signer.verify(junk, now)).toBeNull();
  });
});
