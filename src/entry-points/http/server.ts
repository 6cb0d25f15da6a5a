/** The HTTP api: fastify with our logger, one error translation, body limits, health and metrics. */
import { createServer, type IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { METRICS_REFUSED, metricsAccess, type Metrics } from '../metrics.ts';
import { answerClientError, handleError, sendError } from './http-errors.ts';
import { openApiDocument } from './openapi.ts';
import { applyConnectionLimits, connectionLimits, serverOptions, type ConnectionLimits } from '../connection-limits.ts';
import { registerDocsRoutes } from './docs.routes.ts';
import { registerHealthRoutes } from './health.routes.ts';
import { registerRoutes, type RouteDeps } from './routes.ts';
import { makeBuy } from './buy.ts';
import { createBuyFastLane } from './buy-fast-lane.ts';

export interface HttpServerOptions {
  logger: Logger;
  bodyLimitBytes: number;
  /** Deadlines, header size and connection cap (shared with the result push's port). Default: connectionLimits(). */
  connection?: ConnectionLimits;
  mode: 'embedded' | 'services';
  metrics: Metrics;
  /**
   * Whose X-Forwarded-For names the client address (req.ip, which the limits count by): a hop count or the
   * proxies' addresses. Never `true`: fastify would take the leftmost entry, which the client writes.
   */
  trustProxy?: false | number | string[];
  /** When set, GET /metrics answers only `Authorization: Bearer <this>` (Prometheus' bearer_token); unset, only loopback clients. */
  metricsToken?: string | undefined;
  /** Dependencies named in /api/health; each resolves when it answers. */
  healthChecks?: Record<string, () => Promise<unknown>>;
  /** Extra routes (static front end …) registered after the api. */
  extend?: (app: FastifyInstance) => Promise<void> | void;
}

// Hop 0 is the connection itself, hop i the i-th X-Forwarded-For entry from the right: with n trusted hops
// the client is the entry n from the right, and whatever a client wrote further left is never read.
const API_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' } as const;

const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

/** The client address exactly as fastify's req.ip gives it with the same trustProxy (for the buy fast lane). */
function clientAddress(trustProxy: HttpServerOptions['trustProxy']): (req: IncomingMessage) => string {
  if (trustProxy === undefined || trustProxy === false) return (req) => req.socket.remoteAddress ?? '';
  const trust = typeof trustProxy === 'number' ? trustHops(trustProxy) : proxyAddr.compile(trustProxy);
  return (req) => {
    const all = proxyAddr.all(req, trust);
    return all[all.length - 1] ?? '';
  };
}

export async function buildHttpServer(deps: RouteDeps, opts: HttpServerOptions): Promise<FastifyInstance> {
  const limits = opts.connection ?? connectionLimits();
  const buy = makeBuy(deps);
  // While draining, every request but the readiness probe is told UNAVAILABLE (a load balancer retries elsewhere).
  let closing = false;
  const fastLane = createBuyFastLane({
    buy,
    bodyLimitBytes: opts.bodyLimitBytes,
    ipOf: clientAddress(opts.trustProxy),
    closing: () => closing,
    metrics: opts.metrics,
    log: opts.logger.child({ component: 'http' }),
    headers: API_HEADERS,
  });
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance on fastify's default generics.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- without it fastify infers Logger as its generic
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.bodyLimitBytes,
    // No per-request logs: a hot sale produces thousands a second. Errors are logged by handleError,
    // and /metrics has the counts and latencies.
    logController: new LogController({ disableRequestLogging: true }),
    // fastify's own 503 while closing has its own body shape; the hook below answers ours instead.
    return503OnClosing: false,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    routerOptions: { maxParamLength: 100 },
    // A hop count trusts that many proxies in front of this server (fastify's types take it as a function).
    trustProxy: typeof opts.trustProxy === 'number' ? trustHops(opts.trustProxy) : (opts.trustProxy ?? false),
    clientErrorHandler: answerClientError,
    // A URL that cannot be decoded (GET /%) or a path parameter past its length, before any route runs.
    frameworkErrors: (error, _req, reply) => {
      // Answered before any route's hooks: the headers every answer carries (below) are set here.
      reply.headers(API_HEADERS);
      sendError(reply, 'INVALID_INPUT', error.code === 'FST_ERR_BAD_URL' ? 'The URL is malformed (bad percent-encoding).' : 'The URL is malformed.');
    },
    // The buy fast lane sees each request first and hands fastify every one it does not take.
    serverFactory: (handler) =>
      createServer(serverOptions(limits), (req, res) => {
        if (!fastLane(req, res)) handler(req, res);
      }),
  });
  applyConnectionLimits(app.server, limits);
  app.setErrorHandler(handleError);
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Every answer: a browser must not read a JSON answer as anything else, and no cache (a shared one least of
  // all) may keep an answer that names a buyer. A route that may be cached (the shop's files) sets its own
  // Cache-Control, which replaces this one. Set before the route runs, in the one hook every request passes.
  app.addHook('onRequest', (req, reply, done) => {
    reply.headers(API_HEADERS);
    if (!closing || req.url === '/api/ready') { done(); return; }
    reply.header('Connection', 'close');
    sendError(reply, 'UNAVAILABLE', 'This process is shutting down; try again.');
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 'NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`));

  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    opts.metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  // Every /api route, so a test can hold the OpenAPI document to the routes that exist.
  const apiRoutes: string[] = [];
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    for (const method of [route.method].flat()) if (method !== 'HEAD') apiRoutes.push(`${method} ${route.url}`);
  });
  app.decorate('apiRoutes', apiRoutes);
  app.decorate('buyFastLane', { get taken() { return fastLane.taken; } });

  registerHealthRoutes(app, { mode: opts.mode, checks: opts.healthChecks ?? {} });
  const openApi = openApiDocument();
  app.get('/api/openapi.json', async () => openApi);
  await registerDocsRoutes(app, openApi);
  app.get('/metrics', async (req, reply) => {
    // Both the connection's peer and the client a trusted proxy names: a proxy on this machine passing an outside
    // scrape along is not a loopback client, nor is a direct client that writes 127.0.0.1 in X-Forwarded-For.
    const access = metricsAccess(opts.metricsToken, req.headers.authorization, [req.socket.remoteAddress, req.ip]);
    if (access !== 'ok') return sendError(reply, access, METRICS_REFUSED[access]);
    reply.header('Content-Type', opts.metrics.registry.contentType);
    // In an api process forked on a shared port: every process's figures, whichever one takes the scrape.
    return opts.metrics.scrape();
  });

  registerRoutes(app, deps, buy);
  await opts.extend?.(app);
  return app;
}
