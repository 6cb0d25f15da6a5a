/**
 * GET /api/health: each dependency asked once, with a deadline (a hung check must not hang the probe);
 * 503 "degraded" naming the ones that did not answer. GET /api/ready: for load balancers, 503 once the
 * process is draining (every other request answers 503 UNAVAILABLE while closing; this route says so explicitly).
 */
import type { FastifyInstance } from 'fastify';
import type { DrainingJson, HealthJson, ReadyJson } from './responses.ts';

const CHECK_DEADLINE_MS = 1500;

export function registerHealthRoutes(app: FastifyInstance, opts: { mode: 'embedded' | 'services'; checks: Record<string, () => Promise<unknown>> }): void {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });

  app.get('/api/health', async (_req, reply) => {
    const names = Object.keys(opts.checks);
    const outcomes = await Promise.all(names.map((name) => answered(opts.checks[name]!)));
    const checks = Object.fromEntries(names.map((name, i) => [name, outcomes[i]!]));
    const ok = outcomes.every((o) => o === 'ok');
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'degraded', mode: opts.mode, checks } satisfies HealthJson;
  });

  app.get('/api/ready', async (_req, reply) => {
    reply.code(draining ? 503 : 200);
    return (draining ? { status: 'draining' } : { status: 'ready' }) satisfies DrainingJson | ReadyJson;
  });
}

async function answered(check: () => Promise<unknown>): Promise<'ok' | 'down'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'down'>((resolve) => (timer = setTimeout(() => resolve('down'), CHECK_DEADLINE_MS)));
  try {
    return await Promise.race([check().then(() => 'ok' as const, () => 'down' as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
