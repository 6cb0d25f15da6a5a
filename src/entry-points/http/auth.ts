/**
 * Bearer-token authentication for routes. The signature is checked with no I/O (tokens that verified are
 * remembered by their text, expiry checked on every request); the token's version and the role are then
 * checked against the user's cached row (token-versions.ts: no database read while the row is fresh). While
 * the database cannot be read, a row never read here leaves the token to its signature and expiry.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { rememberVerifiedTokens, type TokenClaims, type TokenSigner } from '../../core/credentials.ts';
import { SeckillError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports/timers.ts';
import type { TokenVersions } from '../../core/token-versions.ts';

/** Where a route logs about its request (fastify's request.log, or the buy fast lane's logger). */
export interface RequestLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the token check reads of a request: a fastify request is one, and so is the buy fast lane's. */
export interface AuthRequest {
  headers: IncomingHttpHeaders;
  log: RequestLog;
}

export type Authenticate = (request: AuthRequest) => Promise<TokenClaims>;

const invalid = () => new SeckillError('UNAUTHORIZED', 'Your session has expired or is not valid; log in again.');

export function makeAuthenticate(signer: TokenSigner, clock: Clock, versions?: TokenVersions): Authenticate {
  const tokens = rememberVerifiedTokens(signer);
  return async (request) => {
    const header = request.headers.authorization;
    if (!header || !header.startsWith('Bearer ')) throw new SeckillError('UNAUTHORIZED', 'Log in first (Authorization: Bearer <token>).');
    const claims = tokens.verify(header.slice(7).trim(), clock.now());
    if (!claims) throw invalid();
    if (!versions) return claims;
    let current;
    try {
      current = await versions.current(claims.userId);
    } catch (err) {
      // The database is unreachable and this user's row was never read here: the signature and expiry decide,
      // so buying goes on through a database outage (orders wait in the queue), at the price of not seeing a
      // logout made elsewhere until the database answers again.
      request.log.warn({ err, userId: claims.userId }, 'token version unknown (database unreachable); token accepted on its signature');
      return claims;
    }
    // Logged out, password or role changed, or the account is gone: the token is from before.
    if (!current || current.tokenVersion !== claims.version) throw invalid();
    return current.role === claims.role ? claims : { ...claims, role: current.role };
  };
}

export function requireAdmin(claims: TokenClaims): void {
  if (claims.role !== 'admin') throw new SeckillError('FORBIDDEN', 'Only an admin may do this.');
}
