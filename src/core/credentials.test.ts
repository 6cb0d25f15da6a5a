import { describe, expect, it } from 'vitest';
import { createTokenSigner, rememberVerifiedTokens, type TokenSigner } from './credentials.ts';

describe('tokens', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const signer = createTokenSigner('s'.repeat(32), 60);

  it('a signed token verifies to its claims until it expires', () => {
    const { token, expiresAt } = signer.sign({ userId: 7, role: 'admin' }, now);
    expect(expiresAt.toISOString()).toBe('2026-01-01T00:01:00.000Z');
    expect(signer.verify(token, now)).toMatchObject({ userId: 7, role: 'admin', version: 0 });
    expect(signer.verify(signer.sign({ userId: 7, role: 'user', version: 3 }, now).token, now)).toMatchObject({ version: 3 });
    expect(signer.verify(token, new Date(now.getTime() + 60_000))).toBeNull();
  });

  it('a token with a changed payload, another secret or garbage is refused', () => {
    const { token } = signer.sign({ userId: 7, role: 'user' }, now);
    const [, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ u: 7, r: 'admin', e: 9e9 })).toString('base64url') + '.' + sig!;
    expect(signer.verify(forged, now)).toBeNull();
    expect(createTokenSigner('t'.repeat(32), 60).verify(token, now)).toBeNull();
    for (const junk of ['', '.', 'abc', 'a.b', token + 'x']) expect(signer.verify(junk, now)).toBeNull();
  });

  it('only the exact spelling of a signature verifies (no second spelling through spare base64url bits)', () => {
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 32 bytes in base64url leave 2 spare bits in the last character: 3 other characters decode to the same bytes.
    for (let userId = 1; userId <= 20; userId++) {
      const { token } = signer.sign({ userId, role: 'user' }, now);
      const last = token.at(-1)!;
      for (const c of ALPHABET) {
        if (c === last) continue;
        expect(signer.verify(token.slice(0, -1) + c, now)).toBeNull();
      }
    }
  });
});

describe('remembered tokens', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const signer = createTokenSigner('s'.repeat(32), 60);
  const counting = (): TokenSigner & { verifications: number } => {
    const c = { verifications: 0, sign: signer.sign.bind(signer), verify: (t: string, at: Date) => (c.verifications++, signer.verify(t, at)) };
    return c;
  };

  it('a token that verified is answered from memory, with the same claims', () => {
    const inner = counting();
    const tokens = rememberVerifiedTokens(inner);
    const { token } = signer.sign({ userId: 7, role: 'user' }, now);
    expect(tokens.verify(token, now)).toEqual(signer.verify(token, now));
    expect(tokens.verify(token, now)).toMatchObject({ userId: 7, role: 'user' });
    expect(inner.verifications).toBe(1);
  });

  it('a remembered token is refused once it expires', () => {
    const tokens = rememberVerifiedTokens(signer);
    const { token } = signer.sign({ userId: 7, role: 'user' }, now);
    expect(tokens.verify(token, now)).not.toBeNull();
    expect(tokens.verify(token, new Date(now.getTime() + 59_999))).not.toBeNull();
    expect(tokens.verify(token, new Date(now.getTime() + 60_000))).toBeNull();
    expect(tokens.verify(token, new Date(now.getTime() + 120_000))).toBeNull();
  });

  it('a remembered token with any one character changed is refused', () => {
    const tokens = rememberVerifiedTokens(signer);
    const { token } = signer.sign({ userId: 7, role: 'user' }, now);
    expect(tokens.verify(token, now)).not.toBeNull();
    for (let i = 0; i < token.length; i++) {
      const changed = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      expect(tokens.verify(changed, now)).toBeNull();
    }
    expect(tokens.verify(token + 'x', now)).toBeNull();
  });

  it('a refused token is not remembered', () => {
    const inner = counting();
    const tokens = rememberVerifiedTokens(inner);
    const { token } = signer.sign({ userId: 7, role: 'user' }, now);
    const later = new Date(now.getTime() + 60_000);
    expect(tokens.verify(token, later)).toBeNull();
    expect(tokens.verify(token, later)).toBeNull();
    expect(inner.verifications).toBe(2);
  });

  it('memory is bounded: past the limit the least recently used token is verified again', () => {
    const inner = counting();
    const tokens = rememberVerifiedTokens(inner, 2);
    const [a, b, c] = [1, 2, 3].map((userId) => signer.sign({ userId, role: 'user' }, now).token);
    tokens.verify(a!, now);
    tokens.verify(b!, now);
    tokens.verify(a!, now); // a is now the most recently used
    tokens.verify(c!, now); // b goes
    expect(inner.verifications).toBe(3);
    tokens.verify(a!, now);
    tokens.verify(c!, now);
    expect(inner.verifications).toBe(3);
    expect(tokens.verify(b!, now)).toMatchObject({ userId: 2 });
    expect(inner.verifications).toBe(4);
  });
});
