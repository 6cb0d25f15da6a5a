/**
 * Bearer-token authentication for routes. Verification is a signature check: no I/O. A buyer presses the
 * seckill button again and again with one token, so tokens that verified are remembered (expiry still
 * checked on every request).
 */
import type { FastifyRequest } from 'fastify';
import { rememberVerifiedTokens, type TokenClaims, type TokenSigner } from '../../core/credentials.ts';
import { SeckillError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';

export type Authenticate = (request: FastifyRequest) => TokenClaims;

export function makeAuthenticate(signer: TokenSigner, clock: Clock): Authenticate {
  const tokens = rememberVerifiedTokens(signer);
  return (request) => {
    const header = request.headers.authorization;
    if (!header || !header.startsWith('Bearer ')) throw new SeckillError('UNAUTHORIZED', 'Log in first (Authorization: Bearer <token>).');
    const claims = tokens.verify(header.slice(7).trim(), clock.now());
    if (!claims) throw new SeckillError('UNAUTHORIZED', 'Your session has expired or is not valid; log in again.');
    return claims;
  };
}

export function requireAdmin(claims: TokenClaims): void {
  if (claims.role !== 'admin') throw new SeckillError('FORBIDDEN', 'Only an admin may do this.');
}
