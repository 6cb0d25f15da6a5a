/** Bearer-token authentication for routes. Verification is a signature check: no I/O. */
import type { FastifyRequest } from 'fastify';
import type { TokenClaims, TokenSigner } from '../../core/credentials.ts';
import { SeckillError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';

export type Authenticate = (request: FastifyRequest) => TokenClaims;

export function makeAuthenticate(signer: TokenSigner, clock: Clock): Authenticate {
  return (request) => {
    const header = request.headers.authorization;
    if (!header || !header.startsWith('Bearer ')) throw new SeckillError('UNAUTHORIZED', 'Log in first (Authorization: Bearer <token>).');
    const claims = signer.verify(header.slice(7).trim(), clock.now());
    if (!claims) throw new SeckillError('UNAUTHORIZED', 'Your session has expired or is not valid; log in again.');
    return claims;
  };
}

export function requireAdmin(claims: TokenClaims): void {
  if (claims.role !== 'admin') throw new SeckillError('FORBIDDEN', 'Only an admin may do this.');
}
