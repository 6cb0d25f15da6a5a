/**
 * What each planned fault does to the running deployment. Message faults work on the broker directly:
 * a duplicate delivery sends again, beside the original, an order request already decided (rebuilt from
 * the database exactly as the api sent it), a result batch (from a tap queue on the result exchange; a
 * success batch is also a second pay-timeout message) or a pay-timeout message; a lost timeout takes one
 * pay-timeout message off its delay queue for good, so only the reconciler can close those orders.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { topologyNames } from '../../src/adapters/order-bus/rabbitmq-topology.ts';
import { freezeOne, freezeTree, processTree } from './freeze.ts';
import type { PrivatePostgres, PrivateService } from './private-services.ts';
import type { Random } from './random.ts';
import type { FaultKind, PlannedFault } from './schedule.ts';
import type { Supervisor } from './supervisor.ts';
import type { Network } from './hosts.ts';
import { cutNetwork } from './partitions.ts';
import type { EngineClusters, Failover } from './engine-clusters.ts';
import { fireFailover } from './failovers.ts';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FiredFault {
  /** When the attempt that fired began, and when it was over (a lasting fault: once healed), after the schedule's start. */
  startMs: number;
  atMs: number;
  kind: FaultKind;
  detail: string;
  /** False when the fault found nothing to act on (no message to duplicate, say) and was skipped. */
  fired: boolean;
  /** An engine's failover: how long the survivor took to take over, and the shop to store the next order. */
  failover?: Failover;
  /** What the fault itself saw go wrong (a cut-off PostgreSQL primary that took a write). */
  violations?: string[];
}

export interface FaultDeps {
  supervisor: Supervisor;
  /** The single engines of a run on one host (their outages and freezes). */
  services?: { postgres: PrivatePostgres; redis: PrivateService; rabbit: PrivateService };
  /** The engine clusters of a run on simulated hosts (their failovers). */
  clusters?: EngineClusters;
  /** Where the message faults reach the broker: each node of a cluster in turn while one is down. */
  brokerUrls: readonly string[];
  /** The sales being sold now. */
  currentGoods: () => readonly number[];
  /** A client of the private PostgreSQL for reading decided requests (reconnects per use). */
  queryDb: <T>(sql: string, params?: unknown[]) => Promise<T[]>;
  amqpPrefix: string;
  payTimeoutMs: number;
  random: Random;
  /** The simulated hosts of a --hosts run (the network faults need them). */
  network?: Network;
}

export const TAP_QUEUE = 'chaos.tap.results';

/** The tap that keeps copies of recent result batches (bounded: the oldest dropped); replicated on a cluster. */
export async function assertTap(amqpUrl: string, prefix: string, quorum = false): Promise<void> {
  await withChannel(amqpUrl, async (ch) => {
    await ch.assertQueue(prefix + TAP_QUEUE, { durable: true, arguments: { 'x-max-length': 200, 'x-overflow': 'drop-head', ...(quorum ? { 'x-queue-type': 'quorum' } : {}) } });
    await ch.bindQueue(prefix + TAP_QUEUE, topologyNames(prefix).resultExchange, 'Order.*');
  });
}

async function withChannel<T>(url: string, fn: (ch: amqp.ConfirmChannel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(url, { timeout: 5000 });
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    return await fn(ch);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Retries while the broker is down (a message fault may fall inside a RabbitMQ restart). */
async function onBroker<T>(deps: FaultDeps, fn: (ch: amqp.ConfirmChannel) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 60; i++) {
    try {
      return await withChannel(deps.brokerUrls[i % deps.brokerUrls.length]!, fn);
    } catch (err) {
      last = err;
      await sleep(500);
    }
  }
  throw last;
}

function copyOptions(msg: amqp.GetMessage): amqp.Options.Publish {
  const p = msg.properties;
  return { persistent: true, contentType: p.contentType, headers: p.headers ?? {}, messageId: p.messageId };
}

async function duplicate(deps: FaultDeps, variant: number): Promise<string | null> {
  const names = topologyNames(deps.amqpPrefix, deps.payTimeoutMs);
  const kinds = ['order request', 'result batch', 'pay-timeout message'] as const;
  for (let k = 0; k < kinds.length; k++) {
    const kind = kinds[(variant + k) % kinds.length]!;
    const done = await onBroker(deps, async (ch) => {
      if (kind === 'order request') {
        const rows = await deps.queryDb<{ uuid: string; user_id: number; seckill_good_id: number; created_at: Date }>(
          `SELECT uuid, user_id::int, seckill_good_id::int, created_at FROM seckill_results ORDER BY created_at DESC LIMIT 50`,
        );
        if (rows.length === 0) return null;
        const r = deps.random.pick(rows);
        const body = [{ uuid: r.uuid, userId: r.user_id, seckillGoodId: r.seckill_good_id, reservedAt: r.created_at.getTime() - 5 }];
        ch.sendToQueue(names.pendingQueue, Buffer.from(JSON.stringify(body)), { persistent: true, contentType: 'application/json' });
        await ch.waitForConfirms();
        return `order request ${r.uuid} (decided ${r.created_at.toISOString()}) sent again`;
      }
      if (kind === 'result batch') {
        const msg = await ch.get(deps.amqpPrefix + TAP_QUEUE);
        if (!msg) return null;
        ch.publish(names.resultExchange, msg.fields.routingKey, msg.content, copyOptions(msg));
        await ch.waitForConfirms();
        ch.ack(msg);
        return `result batch (${msg.fields.routingKey}, ${countOf(msg.content)} results) sent again`;
      }
      const msg = await ch.get(names.delayQueue);
      if (!msg) return null;
      // The original goes back where it was; a copy follows it, due one pay timeout later.
      ch.nack(msg, false, true);
      ch.sendToQueue(names.delayQueue, msg.content, copyOptions(msg));
      await ch.waitForConfirms();
      return `pay-timeout message (${countOf(msg.content)} orders) doubled`;
    });
    if (done) return done;
  }
  return null;
}

async function loseTimeout(deps: FaultDeps): Promise<string | null> {
  const names = topologyNames(deps.amqpPrefix, deps.payTimeoutMs);
  return onBroker(deps, async (ch) => {
    const msg = await ch.get(names.delayQueue);
    if (!msg) return null;
    ch.ack(msg);
    return `pay-timeout message of ${countOf(msg.content)} orders dropped`;
  });
}

function countOf(body: Buffer): number {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return Array.isArray(v) ? v.length : 1;
  } catch {
    return 0;
  }
}

function kill(deps: FaultDeps, role: 'api' | 'worker' | 'ws', variant: number): string | null {
  const candidates = deps.supervisor.processes.filter((p) => p.spec.role === role && p.pid !== undefined);
  if (candidates.length === 0) return null;
  const target = candidates[variant % candidates.length]!;
  deps.supervisor.kill(target.spec.name);
  return `kill -9 ${target.spec.name} (pid ${target.pid})`;
}

async function freezeRole(deps: FaultDeps, role: 'api' | 'worker' | 'ws', variant: number, ms: number): Promise<string | null> {
  const candidates = deps.supervisor.processes.filter((p) => p.spec.role === role && p.pid !== undefined && p.ready);
  if (candidates.length === 0) return null;
  const target = candidates[variant % candidates.length]!;
  // A process that forked (the api's cluster): the whole tree, the primary alone, or one forked process alone.
  const children = processTree(target.pid!).slice(1);
  const way = children.length === 0 ? 0 : Math.floor(variant / candidates.length) % 3;
  if (way === 0) {
    const n = await freezeTree(target.pid!, ms);
    return `${target.spec.name} frozen ${(ms / 1000).toFixed(1)} s (${n} process${n === 1 ? '' : 'es'})`;
  }
  const pid = way === 1 ? target.pid! : children[variant % children.length]!;
  await freezeOne(pid, ms);
  return `${target.spec.name}: ${way === 1 ? 'its primary' : 'one forked process'} (pid ${pid}) frozen ${(ms / 1000).toFixed(1)} s`;
}

async function freezeService(service: PrivateService, ms: number): Promise<string | null> {
  const pid = service.pid();
  if (pid === undefined || !(await service.isUp())) return null;
  const n = await freezeTree(pid, ms);
  return `${service.name} frozen ${(ms / 1000).toFixed(1)} s (${n} process${n === 1 ? '' : 'es'})`;
}

async function crashPostgres(service: PrivatePostgres, downMs: number): Promise<string | null> {
  if (!(await service.isUp())) return null;
  const started = Date.now();
  await service.crash();
  await sleep(downMs);
  await service.start();
  return `PostgreSQL crashed (immediate stop), back after ${((Date.now() - started) / 1000).toFixed(1)} s`;
}

async function outage(service: PrivateService, downMs: number): Promise<string> {
  const started = Date.now();
  await service.stop();
  await sleep(downMs);
  await service.start();
  return `${service.name} down ${((Date.now() - started) / 1000).toFixed(1)} s`;
}

/** Fire one fault; resolves when it is over (an outage: once the service is back). */
export async function fire(deps: FaultDeps, f: PlannedFault): Promise<Omit<FiredFault, 'startMs' | 'atMs' | 'kind'>> {
  const v = f.variant ?? 0;
  let detail: string | null;
  const services = () => {
    if (!deps.services) throw new Error(`${f.kind} needs the single engines of a run on one host`);
    return deps.services;
  };
  switch (f.kind) {
    case 'kill-api':
      detail = kill(deps, 'api', v);
      break;
    case 'kill-worker':
      detail = kill(deps, 'worker', v);
      break;
    case 'kill-ws':
      detail = kill(deps, 'ws', v);
      break;
    case 'redis-flush':
      await exec('redis-cli', ['-h', new URL(services().redis.url).hostname, '-p', new URL(services().redis.url).port, 'flushall']).catch(() => undefined);
      detail = (await services().redis.isUp()) ? 'FLUSHALL' : null;
      break;
    case 'duplicate-delivery':
      detail = await duplicate(deps, v);
      break;
    case 'lost-timeout':
      detail = await loseTimeout(deps);
      break;
    case 'rabbitmq-restart':
      detail = await outage(services().rabbit, f.downMs ?? 3000);
      break;
    case 'redis-outage':
      detail = await outage(services().redis, f.downMs ?? 5000);
      break;
    case 'postgres-outage':
      detail = await outage(services().postgres, f.downMs ?? 30_000);
      break;
    case 'postgres-crash':
      detail = await crashPostgres(services().postgres, f.downMs ?? 10_000);
      break;
    case 'freeze-api':
    case 'freeze-worker':
    case 'freeze-ws':
      detail = await freezeRole(deps, f.kind === 'freeze-api' ? 'api' : f.kind === 'freeze-worker' ? 'worker' : 'ws', v, f.downMs ?? 10_000);
      break;
    case 'freeze-redis':
      detail = await freezeService(services().redis, f.downMs ?? 8000);
      break;
    case 'freeze-rabbitmq':
      detail = await freezeService(services().rabbit, f.downMs ?? 12_000);
      break;
    case 'freeze-postgres':
      detail = await freezeService(services().postgres, f.downMs ?? 20_000);
      break;
    case 'partition-worker-broker':
    case 'partition-worker-db':
    case 'partition-api-redis':
    case 'partition-ws-broker':
    case 'link-down':
      detail = await cutNetwork(deps.network, { ...f, kind: f.kind });
      break;
    case 'kill-postgres-primary':
    case 'kill-rabbitmq-node':
    case 'kill-redis-master':
    case 'partition-rabbitmq-node':
    case 'partition-postgres-primary': {
      if (!deps.clusters || !deps.network) throw new Error(`${f.kind} needs the engine clusters of a run on simulated hosts (--hosts)`);
      const outcome = await fireFailover({ ...deps, network: deps.network, clusters: deps.clusters }, { ...f, kind: f.kind });
      if (!outcome) return { detail: 'nothing to act on (the cluster was not whole)', fired: false };
      return { detail: outcome.detail, fired: true, ...(outcome.failover ? { failover: outcome.failover } : {}), ...(outcome.violations?.length ? { violations: outcome.violations } : {}) };
    }
  }
  return detail ? { detail, fired: true } : { detail: 'nothing to act on', fired: false };
}
