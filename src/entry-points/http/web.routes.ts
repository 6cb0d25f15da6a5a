/**
 * The browser front end: `GET /api/config` (where the result socket is) and the built shop from `web/dist`,
 * with a fallback to index.html for client-side routes. Unknown `/api/…` paths keep the JSON 404.
 */
import helmet from '@fastify/helmet';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './http-errors.ts';
import type { ClientConfigJson } from './responses.ts';
import { pageSecurityHeaders } from './page-security.ts';

export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url));

export interface WebRoutesOptions {
  mode: 'embedded' | 'services';
  /** The page must ask for a buy path before each buy (SECKILL_HIDDEN_PATH=on). */
  hiddenPath?: boolean;
  /** Register needs a code sent to the phone; `smsOutbox`: codes are kept where the page can show them. */
  phoneVerification?: boolean;
  smsOutbox?: boolean;
  /** Requests that need a solved proof-of-work puzzle. */
  pow?: readonly ('register' | 'buy')[];
  /** WS_PUBLIC_URL: where browsers reach the result push when it is not this host at `wsPort`. */
  wsPublicUrl?: string | undefined;
  /** The push server's port on this host (the real one when this process runs it), or null if unknown. */
  wsPort: number | null;
  /** The built front end (default: web/dist of this checkout). */
  webDir?: string;
  /** Origins (https://cdn.example.com) the page may show sale images from besides its own (SECKILL_IMAGE_ORIGINS). */
  imageOrigins?: readonly string[];
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>seckill</title>
<p>The shop's front end is not built yet: run <code>npm run build</code> (npm start does it for you).</p>`;

/** The browser's socket address: WS_PUBLIC_URL, else the host the page was loaded from at the push port. */
export function publicWsUrl(req: FastifyRequest, opts: Pick<WebRoutesOptions, 'wsPublicUrl' | 'wsPort'>): string | null {
  if (opts.wsPublicUrl) return opts.wsPublicUrl.replace(/\/+$/, '');
  if (!opts.wsPort) return null;
  const host = req.hostname.includes(':') && !req.hostname.startsWith('[') ? `[${req.hostname}]` : req.hostname;
  return `${req.protocol === 'https' ? 'wss' : 'ws'}://${host}:${opts.wsPort}`;
}

/** A host name or address that may stand in a CSP source as it is: nothing that could end the source early. */
const PLAIN_HOST = /^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

/**
 * The page's security headers (helmet), only on the routes of this scope: the page, its assets and
 * /api/config. The api's JSON answers on the hot path do not pay for them.
 * - frame-ancestors 'none' (and X-Frame-Options): pay and cancel cannot be clickjacked;
 * - connect-src: this origin and the result socket's origin only (it is on another port, so another origin),
 *   the one /api/config names: a script injected into the page cannot send data anywhere else;
 * - img-src: this origin, data: and the origins of SECKILL_IMAGE_ORIGINS (sale images on a CDN);
 * - no upgrade-insecure-requests: the shop also runs on plain http (locally, behind a TLS proxy).
 */
export async function registerWebRoutes(app: FastifyInstance, opts: WebRoutesOptions): Promise<void> {
  await app.register(async (scope) => {
    // Worked out per request (the socket is on the host the page was loaded from), before helmet writes it.
    const socketOrigin = new WeakMap<IncomingMessage, string>();
    scope.addHook('onRequest', (req, _reply, done) => {
      const origin = socketOriginOf(req, opts);
      if (origin) socketOrigin.set(req.raw, origin);
      done();
    });
    await scope.register(
      helmet,
      pageSecurityHeaders({ imgSrc: ['data:', ...(opts.imageOrigins ?? [])], connectSrc: [(req) => socketOrigin.get(req) ?? ''] }),
    );
    registerScopedWebRoutes(scope, opts);
  });
}

/** The result socket's origin for this page, when it is known and safe to write into the policy. */
function socketOriginOf(req: FastifyRequest, opts: Pick<WebRoutesOptions, 'wsPublicUrl' | 'wsPort'>): string | null {
  if (!opts.wsPublicUrl && !PLAIN_HOST.test(req.host)) return null;
  const url = publicWsUrl(req, opts);
  if (!url) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function registerScopedWebRoutes(app: FastifyInstance, opts: WebRoutesOptions): void {
  const root = path.resolve(opts.webDir ?? DEFAULT_WEB_DIR);

  // Built from the request's Host when WS_PUBLIC_URL is unset: never stored by a shared cache.
  app.get('/api/config', async (req, reply) => {
    reply.header('Cache-Control', 'no-store');
    return { wsUrl: publicWsUrl(req, opts), mode: opts.mode, hiddenPath: opts.hiddenPath ?? false, phoneVerification: opts.phoneVerification ?? false, smsOutbox: opts.smsOutbox ?? false, pow: [...(opts.pow ?? [])] } satisfies ClientConfigJson;
  });

  async function sendFile(reply: FastifyReply, file: string, cache: string): Promise<boolean> {
    let body: Buffer;
    try {
      body = await fs.readFile(file);
    } catch {
      return false;
    }
    // The reply is sent here; the caller returns it to fastify.
    void reply
      .header('Content-Type', TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('Cache-Control', cache)
      .header('X-Content-Type-Options', 'nosniff')
      .send(body);
    return true;
  }

  app.get('/*', async (req, reply) => {
    const urlPath = req.url.split('?')[0] ?? '/';
    if (urlPath === '/api' || urlPath.startsWith('/api/')) return sendError(reply, 'NOT_FOUND', `No route GET ${urlPath}.`);
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return sendError(reply, 'NOT_FOUND', 'No such file.');
    }
    const file = path.join(root, path.normalize(decoded));
    if (file.startsWith(root + path.sep) && path.extname(file)) {
      // Vite names files under /assets by content hash, so they never change.
      if (await sendFile(reply, file, decoded.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=300')) return reply;
      return sendError(reply, 'NOT_FOUND', `No file ${urlPath}.`);
    }
    // A client-side route (/goods/1, /orders …): the single page decides.
    if (await sendFile(reply, path.join(root, 'index.html'), 'no-cache')) return reply;
    return reply.code(503).header('Content-Type', 'text/html; charset=utf-8').send(NOT_BUILT);
  });
}
