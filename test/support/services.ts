/**
 * Real-service availability for *.int.test.ts files, and a fresh PostgreSQL schema per file.
 * Under CI=true a missing service fails the run loudly; elsewhere the suite skips with a message.
 */
import { acceptsConnections } from '../../support/tcp.ts';
import { randomBytes } from 'node:crypto';
import { createPgDatabase, type PgDatabase } from '../../src/adapters/database/pg-database.ts';

export const SERVICE_URLS = {
  postgres: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  rabbitmq: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
} as const;

export type ServiceName = keyof typeof SERVICE_URLS;

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port) || { 'postgres:': 5432, 'redis:': 6379, 'amqp:': 5672 }[u.protocol] || 0;
  return acceptsConnections(u.hostname || '127.0.0.1', port, 1000);
}

/** Resolves true when every named service accepts connections; throws under CI when one does not. */
export async function servicesAvailable(...names: ServiceName[]): Promise<boolean> {
  const missing: string[] = [];
  for (const name of names) if (!(await reachable(SERVICE_URLS[name]))) missing.push(`${name} (${SERVICE_URLS[name]})`);
  if (missing.length === 0) return true;
  const message = `real service(s) not reachable: ${missing.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`${message} — CI never skips real-service tests`);
  console.warn(`skipping: ${message}`);
  return false;
}

/** A fresh PostgreSQL schema on the real server for one test file, dropped by `cleanup`: files run side by side. */
export async function freshPgSchema(prefix: string): Promise<{ db: PgDatabase; cleanup: () => Promise<void> }> {
  const db = await createPgDatabase({ url: SERVICE_URLS.postgres, schema: `t_${prefix}_${randomBytes(6).toString('hex')}`, max: 8 });
  return {
    db,
    cleanup: async () => {
      await db.dropSchema();
      await db.close();
    },
  };
}
