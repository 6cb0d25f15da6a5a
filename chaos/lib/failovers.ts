/**
 * The engines' failovers in a run on simulated hosts (engine-clusters.ts): a node killed (every process on
 * its host, kill -9) and started again on its data after the fault's duration, or cut off from its cluster
 * and healed. Each fault measures what the engine's own mechanism took — from the death to the survivor
 * taking over, and to the next order the shop stored — and returns only once the cluster is whole again,
 * so the next fault finds a cluster that can fail over.
 *
 * The PostgreSQL primary cut off from the monitor and its standby is also a fencing check: while it is cut
 * off, the driver (which still reaches it, as the roles do) keeps trying to write on it; a write it answers
 * after the standby was promoted is a split brain, and a violation.
 */
import pg from 'pg';
import { topologyNames } from '../../src/adapters/order-bus/rabbitmq-topology.ts';
import { RABBIT_HOSTS, type EngineClusters, type Failover } from './engine-clusters.ts';
import type { Network } from './hosts.ts';
import { cutApart } from './partitions.ts';
import type { PlannedFault } from './schedule.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

export interface FailoverDeps {
  network: Network;
  clusters: EngineClusters;
  queryDb: <T>(sql: string, params?: unknown[]) => Promise<T[]>;
  amqpPrefix: string;
  payTimeoutMs: number;
  /** The sales being sold now (a Redis master is picked among theirs). */
  currentGoods: () => readonly number[];
}

export interface FailoverOutcome {
  detail: string;
  failover?: Failover;
  violations?: string[];
}

type FailoverKind = 'kill-postgres-primary' | 'kill-rabbitmq-node' | 'kill-redis-master' | 'partition-rabbitmq-node' | 'partition-postgres-primary';

/** How long after `since` the check first held (polled), or undefined if not within `limitMs`. */
async function msUntil(since: number, check: () => Promise<boolean>, limitMs: number, everyMs = 200): Promise<number | undefined> {
  while (Date.now() - since < limitMs) {
    if (await check().catch(() => false)) return Date.now() - since;
    await sleep(everyMs);
  }
  return undefined;
}

/**
 * How long after `since` an order made after it (of these goods, or any) could first be read: the moment it
 * was committed, to within the polling interval (its created_at is when its batch began, which can be long
 * before a commit that waited for the failover).
 */
async function nextOrderAfter(deps: FailoverDeps, since: number, limitMs: number, goods?: readonly number[]): Promise<number | undefined> {
  return msUntil(
    since,
    async () => {
      const [row] = await deps.queryDb<{ n: number }>(
        `SELECT count(*)::int AS n FROM orders WHERE created_at > $1${goods ? ' AND seckill_good_id = ANY($2::bigint[])' : ''}`,
        goods ? [new Date(since), goods] : [new Date(since)],
      );
      return (row?.n ?? 0) > 0;
    },
    limitMs,
    250,
  );
}

async function waitWhole(whole: () => Promise<boolean>, since: number): Promise<number | undefined> {
  return msUntil(since, whole, 240_000, 500);
}

export async function fireFailover(deps: FailoverDeps, f: PlannedFault & { kind: FailoverKind }): Promise<FailoverOutcome | null> {
  const downMs = f.downMs ?? 15_000;
  const v = f.variant ?? 0;
  const { postgres, rabbit, redis } = deps.clusters;
  switch (f.kind) {
    case 'kill-postgres-primary': {
      const primary = await postgres.primary();
      if (!primary || !(await postgres.whole())) return null;
      const standby = primary === 'pg-1' ? 'pg-2' : 'pg-1';
      const diedAt = Date.now();
      await postgres.kill(primary);
      const measured = Promise.all([msUntil(diedAt, () => postgres.takesWrites(standby), downMs + 60_000), nextOrderAfter(deps, diedAt, downMs + 60_000)]);
      await sleep(Math.max(0, diedAt + downMs - Date.now()));
      const backAt = Date.now();
      postgres.start(primary);
      const [takeoverMs, nextOrderMs] = await measured;
      const rejoinMs = await waitWhole(() => postgres.whole(), backAt);
      return {
        detail: `${primary} (primary) killed: ${standby} promoted after ${s(takeoverMs)}, next order after ${s(nextOrderMs)}; ${primary} started again after ${s(backAt - diedAt)}, a standby again ${s(rejoinMs)} later`,
        failover: { engine: 'PostgreSQL', ...(takeoverMs !== undefined ? { takeoverMs } : {}), ...(nextOrderMs !== undefined ? { nextOrderMs } : {}) },
      };
    }
    case 'partition-postgres-primary': {
      const primary = await postgres.primary();
      if (!primary || !(await postgres.whole())) return null;
      const standby = primary === 'pg-1' ? 'pg-2' : 'pg-1';
      await deps.queryDb('CREATE TABLE IF NOT EXISTS chaos_fence_probe (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
      const cutAt = Date.now();
      const violations: string[] = [];
      let promotedAt: number | undefined;
      let probes = 0;
      const probe = async () => {
        while (Date.now() - cutAt < downMs) {
          const c = new pg.Client({ connectionString: postgres.urlOf(primary), connectionTimeoutMillis: 1500, query_timeout: 1500 });
          c.on('error', () => undefined);
          try {
            await c.connect();
            probes++;
            await c.query('INSERT INTO chaos_fence_probe DEFAULT VALUES');
            // Answered: fine while it is still the only primary; a split brain once the standby takes writes.
            if (await postgres.takesWrites(standby)) {
              violations.push(`the cut-off PostgreSQL primary ${primary} took a write ${s(Date.now() - cutAt)} into the partition, after ${standby} was promoted`);
            }
          } catch {
            /* refused, hung (waiting for its synchronous standby) or demoted: fenced */
          } finally {
            void c.end().catch(() => undefined);
          }
          if (promotedAt === undefined && (await postgres.takesWrites(standby))) promotedAt = Date.now();
          await sleep(500);
        }
      };
      await cutApart(deps.network, [primary], ['pg-monitor', standby], downMs, probe);
      const healedAt = Date.now();
      const rejoinMs = await waitWhole(() => postgres.whole(), healedAt);
      const takeoverMs = promotedAt === undefined ? undefined : promotedAt - cutAt;
      return {
        detail:
          `${primary} (primary) cut off from the monitor and ${standby} ${s(healedAt - cutAt)}: ` +
          (takeoverMs === undefined ? 'no promotion' : `${standby} promoted after ${s(takeoverMs)}`) +
          `; ${probes} writes tried on ${primary} meanwhile, ${violations.length} taken after the promotion; whole again ${s(rejoinMs)} after the heal`,
        ...(takeoverMs !== undefined ? { failover: { engine: 'PostgreSQL' as const, takeoverMs } } : {}),
        violations,
      };
    }
    case 'kill-rabbitmq-node': {
      if (!(await rabbit.whole())) return null;
      const pending = topologyNames(deps.amqpPrefix, deps.payTimeoutMs).pendingQueue;
      const node = (await rabbit.leaderOf(pending)) ?? RABBIT_HOSTS[v % RABBIT_HOSTS.length]!;
      const diedAt = Date.now();
      await rabbit.kill(node);
      const measured = Promise.all([
        msUntil(diedAt, async () => {
          const leader = await rabbit.leaderOf(pending);
          return leader !== undefined && leader !== node;
        }, downMs + 60_000, 250),
        nextOrderAfter(deps, diedAt, downMs + 60_000),
      ]);
      await sleep(Math.max(0, diedAt + downMs - Date.now()));
      const backAt = Date.now();
      await rabbit.start(node);
      const [takeoverMs, nextOrderMs] = await measured;
      const rejoinMs = await waitWhole(() => rabbit.whole(), backAt);
      return {
        detail: `rabbit@${node} (leader of the pending queue) killed: a new leader after ${s(takeoverMs)}, next order after ${s(nextOrderMs)}; started again after ${s(backAt - diedAt)}, in the cluster again ${s(rejoinMs)} later`,
        failover: { engine: 'RabbitMQ', ...(takeoverMs !== undefined ? { takeoverMs } : {}), ...(nextOrderMs !== undefined ? { nextOrderMs } : {}) },
      };
    }
    case 'partition-rabbitmq-node': {
      if (!(await rabbit.whole())) return null;
      const node = RABBIT_HOSTS[v % RABBIT_HOSTS.length]!;
      const others = RABBIT_HOSTS.filter((h) => h !== node);
      const pending = topologyNames(deps.amqpPrefix, deps.payTimeoutMs).pendingQueue;
      const ledBefore = (await rabbit.leaderOf(pending)) === node;
      const cutAt = Date.now();
      let takeoverMs: number | undefined;
      await cutApart(deps.network, [node], others, downMs, async () => {
        if (!ledBefore) return;
        takeoverMs = await msUntil(cutAt, async () => {
          // The majority's view: the node cut off may go on calling itself the leader.
          const leader = await rabbit.leaderOf(pending, others);
          return leader !== undefined && leader !== node;
        }, downMs, 250);
      });
      const healedAt = Date.now();
      const rejoinMs = await waitWhole(() => rabbit.whole(), healedAt);
      return {
        detail: `rabbit@${node}${ledBefore ? ' (leader of the pending queue)' : ''} cut off from ${others.join(' and ')} ${s(healedAt - cutAt)}${ledBefore ? `: a new leader after ${s(takeoverMs)}` : ''}; all three running again ${s(rejoinMs)} after the heal`,
        ...(ledBefore && takeoverMs !== undefined ? { failover: { engine: 'RabbitMQ' as const, takeoverMs } } : {}),
      };
    }
    case 'kill-redis-master': {
      const goods = deps.currentGoods();
      if (goods.length === 0 || !(await redis.whole())) return null;
      const good = goods[v % goods.length]!;
      const key = `{sg:${good}}`;
      const master = await redis.masterOf(key);
      if (!master) return null;
      const onIt: number[] = [];
      for (const g of goods) if ((await redis.masterOf(`{sg:${g}}`)) === master) onIt.push(g);
      const diedAt = Date.now();
      await redis.kill(master);
      const measured = Promise.all([
        msUntil(diedAt, async () => {
          const now = await redis.masterOf(key);
          return now !== undefined && now !== master;
        }, downMs + 60_000, 250),
        nextOrderAfter(deps, diedAt, downMs + 60_000, onIt),
      ]);
      await sleep(Math.max(0, diedAt + downMs - Date.now()));
      const backAt = Date.now();
      redis.start(master);
      const [takeoverMs, nextOrderMs] = await measured;
      const rejoinMs = await waitWhole(() => redis.whole(), backAt);
      return {
        detail: `${master} (master of sale${onIt.length === 1 ? '' : 's'} #${onIt.join(', #')}) killed: its replica took over after ${s(takeoverMs)}, next order of ${onIt.length === 1 ? 'that sale' : 'those sales'} after ${s(nextOrderMs)}; started again after ${s(backAt - diedAt)}, in the cluster again ${s(rejoinMs)} later`,
        failover: { engine: 'Redis', ...(takeoverMs !== undefined ? { takeoverMs } : {}), ...(nextOrderMs !== undefined ? { nextOrderMs } : {}) },
      };
    }
  }
}
