/**
 * The security headers (helmet) of the pages this server draws: the shop and the api docs. One policy,
 * same-origin everything; a page widens only where it must (where its images and connections may go).
 */
import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A source, or one worked out per request (helmet calls it with the raw request and response). */
export type CspSource = string | ((req: IncomingMessage, res: ServerResponse) => string);

export function pageSecurityHeaders(allow: { imgSrc: CspSource[]; connectSrc: CspSource[] }): FastifyHelmetOptions {
  return {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", ...allow.imgSrc],
        connectSrc: ["'self'", ...allow.connectSrc],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  };
}
