/**
 * The engines of a run on simulated hosts (--hosts), each a cluster that fails over by its own mechanism:
 *
 * - PostgreSQL: pg_auto_failover (Debian's postgresql-15-auto-failover), a monitor on `pg-monitor` and two
 *   data nodes on `pg-1` and `pg-2`, the standby synchronous. The monitor promotes the standby when the primary
 *   stops answering; a primary that reaches neither the monitor nor its standby demotes itself
 *   (network_partition_timeout), and the monitor waits longer than that (primary_demote_timeout) before it
 *   promotes, so two primaries never take writes at once. The shop finds the primary by libpq's rule: a
 *   DATABASE_URL naming both nodes with target_session_attrs=read-write.
 * - RabbitMQ: three nodes of Debian's rabbitmq-server (`rabbit-1`…`rabbit-3`) that form one cluster by
 *   themselves, quorum queues, pause_minority (a node cut off from the other two stops serving).
 * - Redis: a Redis Cluster of three masters and three replicas (`redis-1`…`redis-6`); a replica takes over its
 *   master's slots after cluster-node-timeout.
 *
 * Every node runs inside its host with the engine's standard ports (each host has its own), as the engine's
 * system user, with its data under the run's folder (`engines/`, removed with the hosts). A node "dies" by
 * kill -9 of every process on its host (hosts.ts killHost) and comes back on the same data.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { acceptsConnections } from '../../support/tcp.ts';
import { hostOf, inHost, killHost, type Network } from './hosts.ts';
import { postgresBin } from './private-services.ts';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const PG_HOSTS = ['pg-monitor', 'pg-1', 'pg-2'] as const;
export const RABBIT_HOSTS = ['rabbit-1', 'rabbit-2', 'rabbit-3'] as const;
export const REDIS_HOSTS = ['redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5', 'redis-6'] as const;
export const CLUSTER_HOSTS: readonly string[] = [...PG_HOSTS, ...RABBIT_HOSTS, ...REDIS_HOSTS];
/** The hosts a role can be cut off from, per engine. */
export const ENGINE_GROUPS = { postgres: ['pg-1', 'pg-2'], rabbitmq: [...RABBIT_HOSTS], redis: [...REDIS_HOSTS] } as const;

/** What failing over took: from the node's death to the engine serving again, and to the next order stored. */
export interface Failover {
  engine: 'PostgreSQL' | 'RabbitMQ' | 'Redis';
  takeoverMs?: number;
  nextOrderMs?: number;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, ms: number, everyMs = 250): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${ms / 1000} s`);
    await sleep(everyMs);
  }
}

function idsOf(user: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no system user ${user}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function ownedDir(user: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const { uid, gid } = idsOf(user);
  chownSync(dir, uid, gid);
  return dir;
}

const asUser = (user: string, env: Record<string, string>, file: string, args: readonly string[]) => [
  'runuser',
  ['-u', user, '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), file, ...args],
] as const;

/** Run a command to its end inside a host, as the engine's user. */
async function runIn(net: Network, host: string, user: string, env: Record<string, string>, file: string, args: readonly string[]): Promise<string> {
  const [f, a] = asUser(user, env, file, args);
  const { stdout } = await exec(...inHost(hostOf(net, host), f, a), { timeout: 120_000, cwd: '/' });
  return stdout;
}

/** Start a long-running program inside a host, as the engine's user, its output appended to a log file. */
function daemonIn(net: Network, host: string, user: string, env: Record<string, string>, file: string, args: readonly string[], log: string): void {
  const [f, a] = asUser(user, env, file, args);
  const fd = openSync(log, 'a');
  try {
    const child = spawn(...inHost(hostOf(net, host), f, a), { stdio: ['ignore', fd, fd], detached: true, cwd: '/' });
    child.on('error', () => undefined);
    child.unref();
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL: pg_auto_failover
// ---------------------------------------------------------------------------------------------------------------

export interface PgNodeState {
  name: string;
  reported: string;
  assigned: string;
}

export interface PgCluster {
  /** Both data nodes, read-write target: what the roles get as DATABASE_URL. */
  readonly url: string;
  /** One data node alone (for the fencing probe). */
  urlOf(name: string): string;
  states(): Promise<PgNodeState[]>;
  /** The node the monitor has as primary (reported and assigned), if any. */
  primary(): Promise<string | undefined>;
  /** One primary and one secondary, each in the state the monitor assigned. */
  whole(): Promise<boolean>;
  /** The node itself is out of recovery and answers: it takes writes (the monitor's view of it can lag). */
  takesWrites(name: string): Promise<boolean>;
  kill(name: string): Promise<void>;
  start(name: string): void;
}

const PRIMARY_STATES = new Set(['primary', 'wait_primary', 'single']);

/** A free port for each node: the nodes are on hosts of their own, but their socket files share /var/run/postgresql. */
function socketFreePorts(n: number): number[] {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const ports = Array.from({ length: n }, (_, i) => base + i);
    if (ports.every((p) => !existsSync(`/var/run/postgresql/.s.PGSQL.${p}.lock`))) return ports;
  }
}

export async function startPgCluster(net: Network, dir: string, say: (line: string) => void): Promise<PgCluster> {
  const PG_BIN = postgresBin();
  const base = ownedDir('postgres', path.join(dir, 'pg'));
  const xdg = Object.fromEntries(['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_RUNTIME_DIR'].map((k) => [k, ownedDir('postgres', path.join(base, k.toLowerCase()))]));
  const env = { ...xdg, PG_CONFIG: path.join(PG_BIN, 'pg_config'), HOME: base };
  const [monitorPort, ...nodePorts] = socketFreePorts(3) as [number, number, number];
  const portOf = (name: string) => (name === 'pg-1' ? nodePorts[0] : nodePorts[1]);
  const addr = (name: string) => hostOf(net, name).addr;
  const pgdata = (name: string) => path.join(base, name);
  const log = (name: string) => path.join(base, `${name}.log`);
  const monitorUrl = `postgres://autoctl_node@${addr('pg-monitor')}:${monitorPort}/pg_auto_failover?sslmode=disable`;
  const autoctl = (host: string, args: string[]) => runIn(net, host, 'postgres', env, 'pg_autoctl', args);

  const onMonitor = async <T,>(sql: string): Promise<T[]> => {
    const c = new pg.Client({ connectionString: `postgres://postgres@${addr('pg-monitor')}:${monitorPort}/pg_auto_failover`, connectionTimeoutMillis: 3000, query_timeout: 5000 });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return (await c.query(sql)).rows as T[];
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  const states = () => onMonitor<PgNodeState>('SELECT nodename AS name, reportedstate AS reported, goalstate AS assigned FROM pgautofailover.node ORDER BY nodeid');

  // The monitor: created, told to trust the run's hosts, then run.
  await autoctl('pg-monitor', ['create', 'monitor', '--pgdata', pgdata('pg-monitor'), '--pgport', String(monitorPort), '--hostname', addr('pg-monitor'), '--auth', 'trust', '--no-ssl', '--pgctl', path.join(PG_BIN, 'pg_ctl')]);
  writeFileSync(path.join(pgdata('pg-monitor'), 'pg_hba.conf'), `${readFileSync(path.join(pgdata('pg-monitor'), 'pg_hba.conf'), 'utf8')}host all all ${net.subnet} trust\n`);
  daemonIn(net, 'pg-monitor', 'postgres', env, 'pg_autoctl', ['run', '--pgdata', pgdata('pg-monitor')], log('pg-monitor'));
  await waitFor('the pg_auto_failover monitor', () => acceptsConnections(addr('pg-monitor'), monitorPort, 500), 60_000);
  // Failover within seconds: a node is unhealthy after 5 s without a health check or a report; a primary cut
  // off demotes itself after 6 s (set on each node below), and the monitor waits 10 s for that before promoting.
  const settings = [
    'ALTER SYSTEM SET pgautofailover.health_check_period = 1000',
    'ALTER SYSTEM SET pgautofailover.health_check_timeout = 2000',
    'ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1',
    'ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500',
    'ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 5000',
    'ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 10000',
    'SELECT pg_reload_conf()',
  ];
  await waitFor('the monitor to take settings', async () => {
    for (const sql of settings) await onMonitor(sql);
    return true;
  }, 30_000);

  const createNode = async (name: 'pg-1' | 'pg-2', expect: (s: PgNodeState[]) => boolean) => {
    daemonIn(net, name, 'postgres', env, 'pg_autoctl', [
      'create', 'postgres', '--pgdata', pgdata(name), '--pgport', String(portOf(name)), '--hostname', addr(name), '--name', name,
      '--monitor', monitorUrl, '--auth', 'trust', '--no-ssl', '--pg-hba-lan', '--pgctl', path.join(PG_BIN, 'pg_ctl'), '--run',
    ], log(name));
    await waitFor(`${name} to join the formation`, async () => expect(await states()), 120_000, 500);
    await autoctl(name, ['config', 'set', '--pgdata', pgdata(name), 'timeout.network_partition_timeout', '6']);
    await autoctl(name, ['reload', '--pgdata', pgdata(name)]);
  };
  await createNode('pg-1', (s) => s.some((n) => n.name === 'pg-1' && n.reported === 'single'));
  await createNode('pg-2', (s) => s.length === 2 && s.every((n) => n.reported === n.assigned && ['primary', 'secondary'].includes(n.reported)));
  say(`PostgreSQL: pg_auto_failover monitor ${addr('pg-monitor')}:${monitorPort}, pg-1 primary ${addr('pg-1')}:${portOf('pg-1')}, pg-2 synchronous standby ${addr('pg-2')}:${portOf('pg-2')}`);

  const cluster: PgCluster = {
    url: `postgres://postgres@${addr('pg-1')}:${portOf('pg-1')},${addr('pg-2')}:${portOf('pg-2')}/postgres?target_session_attrs=read-write`,
    urlOf: (name) => `postgres://postgres@${addr(name)}:${portOf(name)}/postgres`,
    states,
    async primary() {
      return (await states()).find((n) => PRIMARY_STATES.has(n.reported) && n.reported === n.assigned)?.name;
    },
    async whole() {
      const s = await states().catch(() => []);
      return s.length === 2 && s.every((n) => n.reported === n.assigned) && s.some((n) => n.reported === 'primary') && s.some((n) => n.reported === 'secondary');
    },
    async takesWrites(name) {
      const c = new pg.Client({ connectionString: cluster.urlOf(name), connectionTimeoutMillis: 1500, query_timeout: 1500 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        const [row] = (await c.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')).rows;
        return row?.standby === false;
      } catch {
        return false;
      } finally {
        void c.end().catch(() => undefined);
      }
    },
    async kill(name) {
      await killHost(net, name);
    },
    start(name) {
      daemonIn(net, name, 'postgres', env, 'pg_autoctl', ['run', '--pgdata', pgdata(name)], log(name));
    },
  };
  return cluster;
}

// ---------------------------------------------------------------------------------------------------------------
// RabbitMQ: three nodes, one cluster
// ---------------------------------------------------------------------------------------------------------------

export interface RabbitCluster {
  /** Every node's AMQP URL, comma-separated: what the roles get as AMQP_URL. */
  readonly url: string;
  readonly urls: readonly string[];
  readonly statsIntervalMs: number;
  /** The node (host name) that leads a queue, as the first of these nodes (default: all) that answers says. */
  leaderOf(queue: string, askNodes?: readonly string[]): Promise<string | undefined>;
  /** The nodes running, as the first node that answers sees them. */
  running(): Promise<string[]>;
  whole(): Promise<boolean>;
  kill(name: string): Promise<void>;
  start(name: string): Promise<void>;
}

const RABBIT_SBIN = existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server') ? '/usr/lib/rabbitmq/bin' : '/usr/sbin';

export async function startRabbitCluster(net: Network, dir: string, say: (line: string) => void): Promise<RabbitCluster> {
  const base = ownedDir('rabbitmq', path.join(dir, 'rabbitmq'));
  const home = ownedDir('rabbitmq', path.join(base, 'home'));
  const { uid, gid } = idsOf('rabbitmq');
  const cookie = path.join(home, '.erlang.cookie');
  writeFileSync(cookie, randomBytes(15).toString('hex').toUpperCase(), { mode: 0o400 });
  chownSync(cookie, uid, gid);
  // Node names are rabbit@rabbit-N: Erlang finds the hosts' addresses in an inetrc of the run's own (never
  // /etc/hosts), and the machine's rabbitmq-env.conf (epmd on loopback only) is replaced by an empty one.
  const inetrc = path.join(base, 'inetrc');
  writeFileSync(inetrc, [...RABBIT_HOSTS.map((h) => `{host, {${hostOf(net, h).addr.replace(/\./g, ',')}}, ["${h}"]}.`), '{lookup, [file, native]}.', ''].join('\n'));
  const envFile = path.join(base, 'rabbitmq-env.conf');
  writeFileSync(envFile, '');
  const statsIntervalMs = 1000;
  const envOf = (h: string) => {
    const d = path.join(base, h);
    return {
      HOME: home,
      ERL_INETRC: inetrc,
      RABBITMQ_CONF_ENV_FILE: envFile,
      RABBITMQ_NODENAME: `rabbit@${h}`,
      RABBITMQ_MNESIA_BASE: path.join(d, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(d, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(d, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: path.join(d, 'rabbitmq.conf'),
      RABBITMQ_PID_FILE: path.join(d, 'pid'),
    };
  };
  for (const h of RABBIT_HOSTS) {
    const d = ownedDir('rabbitmq', path.join(base, h));
    for (const sub of ['mnesia', 'log']) ownedDir('rabbitmq', path.join(d, sub));
    writeFileSync(path.join(d, 'enabled_plugins'), '[rabbitmq_management].\n');
    writeFileSync(
      path.join(d, 'rabbitmq.conf'),
      [
        'loopback_users = none',
        `collect_statistics_interval = ${statsIntervalMs}`,
        'cluster_partition_handling = pause_minority',
        'cluster_formation.peer_discovery_backend = classic_config',
        ...RABBIT_HOSTS.map((peer, i) => `cluster_formation.classic_config.nodes.${i + 1} = rabbit@${peer}`),
        '',
      ].join('\n'),
    );
  }
  for (const f of [inetrc, envFile]) chownSync(f, uid, gid);
  const addr = (h: string) => hostOf(net, h).addr;
  const hostOfNode = (node: string) => node.replace(/^rabbit@/, '');
  const start = async (h: string) => {
    await runIn(net, h, 'rabbitmq', envOf(h), path.join(RABBIT_SBIN, 'rabbitmq-server'), ['-detached']);
  };
  const management = async <T,>(h: string, p: string): Promise<T> => {
    const res = await fetch(`http://${addr(h)}:15672${p}`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` }, signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`${h}${p}: ${res.status}`);
    return (await res.json()) as T;
  };
  const anyNode = async <T,>(p: string, askNodes: readonly string[] = RABBIT_HOSTS): Promise<T | undefined> => {
    for (const h of askNodes) {
      try {
        return await management<T>(h, p);
      } catch {
        /* the next node */
      }
    }
    return undefined;
  };
  const running = async () => ((await anyNode<{ name: string; running: boolean }[]>('/api/nodes?columns=name,running')) ?? []).filter((n) => n.running).map((n) => hostOfNode(n.name));
  await Promise.all(RABBIT_HOSTS.map(start));
  await waitFor('the three RabbitMQ nodes to form one cluster', async () => (await management<{ running: boolean }[]>('rabbit-1', '/api/nodes?columns=name,running')).filter((n) => n.running).length === 3, 180_000, 1000);
  const urls = RABBIT_HOSTS.map((h) => `amqp://guest:guest@${addr(h)}:5672`);
  say(`RabbitMQ: one cluster of ${RABBIT_HOSTS.map((h) => `rabbit@${h} ${addr(h)}`).join(', ')} (quorum queues, pause_minority)`);
  return {
    url: urls.join(','),
    urls,
    statsIntervalMs,
    async leaderOf(queue, askNodes) {
      const q = await anyNode<{ leader?: string; node?: string }>(`/api/queues/%2F/${encodeURIComponent(queue)}?columns=leader,node`, askNodes);
      const node = q?.leader ?? q?.node;
      return node ? hostOfNode(node) : undefined;
    },
    running,
    async whole() {
      return (await running().catch(() => [])).length === 3;
    },
    async kill(h) {
      await killHost(net, h);
    },
    start,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Redis Cluster: three masters, three replicas
// ---------------------------------------------------------------------------------------------------------------

export interface RedisClusterNodeInfo {
  host: string;
  master: boolean;
  connected: boolean;
  slots: [number, number][];
}

export interface RedisClusterOnHosts {
  /** host:port of every node: what the roles get as REDIS_CLUSTER_NODES. */
  readonly nodes: string;
  /** The master that holds a key's slot (host name), as a live node sees the cluster. */
  masterOf(key: string): Promise<string | undefined>;
  whole(): Promise<boolean>;
  kill(name: string): Promise<void>;
  start(name: string): void;
}

const REDIS_PORT = 6379;

export async function startRedisCluster(net: Network, dir: string, say: (line: string) => void): Promise<RedisClusterOnHosts> {
  const base = path.join(dir, 'redis');
  mkdirSync(base, { recursive: true });
  const addr = (h: string) => hostOf(net, h).addr;
  const byAddr = new Map<string, string>(REDIS_HOSTS.map((h) => [addr(h), h]));
  const start = (h: string) => {
    const d = path.join(base, h);
    mkdirSync(d, { recursive: true });
    const child = spawn(
      ...inHost(hostOf(net, h), 'redis-server', [
        '--port', String(REDIS_PORT), '--bind', addr(h), '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', d,
        '--cluster-enabled', 'yes', '--cluster-config-file', path.join(d, 'nodes.conf'), '--cluster-node-timeout', '2000',
        '--logfile', path.join(d, 'redis.log'),
      ]),
      { stdio: 'ignore', detached: true },
    );
    child.on('error', () => undefined);
    child.unref();
  };
  const cli = async (h: string, ...args: string[]) => (await exec('redis-cli', ['-h', addr(h), '-p', String(REDIS_PORT), ...args], { timeout: 5000 })).stdout;
  const nodesSeenBy = async (h: string): Promise<RedisClusterNodeInfo[]> =>
    (await cli(h, 'cluster', 'nodes'))
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [, address, flags, , , , , link, ...slots] = line.split(' ');
        return {
          host: byAddr.get(address!.split(':')[0]!) ?? address!,
          master: flags!.split(',').includes('master'),
          connected: link === 'connected' && !flags!.includes('fail'),
          slots: slots.filter((s) => /^\d/.test(s)).map((s) => (s.includes('-') ? (s.split('-').map(Number) as [number, number]) : [Number(s), Number(s)])),
        };
      });
  const anyView = async (): Promise<RedisClusterNodeInfo[] | undefined> => {
    for (const h of REDIS_HOSTS) {
      try {
        const view = await nodesSeenBy(h);
        if (view.length === REDIS_HOSTS.length) return view;
      } catch {
        /* the next node */
      }
    }
    return undefined;
  };
  for (const h of REDIS_HOSTS) start(h);
  await waitFor('the Redis nodes', async () => (await Promise.all(REDIS_HOSTS.map((h) => acceptsConnections(addr(h), REDIS_PORT, 500)))).every(Boolean), 30_000);
  await exec('redis-cli', ['--cluster', 'create', ...REDIS_HOSTS.map((h) => `${addr(h)}:${REDIS_PORT}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000 });
  const whole = async () => {
    const views = await Promise.all(REDIS_HOSTS.map((h) => cli(h, 'cluster', 'info').catch(() => '')));
    if (!views.every((v) => v.includes('cluster_state:ok') && v.includes(`cluster_known_nodes:${REDIS_HOSTS.length}`))) return false;
    const view = await anyView();
    return !!view && view.every((n) => n.connected) && view.filter((n) => n.master && n.slots.length > 0).length === 3;
  };
  await waitFor('the Redis Cluster to be whole', whole, 60_000, 500);
  const masters = (await anyView())!.filter((n) => n.master).map((n) => n.host);
  say(`Redis: a Redis Cluster on ${REDIS_HOSTS.length} hosts, masters ${masters.join(', ')}`);
  return {
    nodes: REDIS_HOSTS.map((h) => `${addr(h)}:${REDIS_PORT}`).join(','),
    async masterOf(key) {
      for (const h of REDIS_HOSTS) {
        try {
          const slot = Number((await cli(h, 'cluster', 'keyslot', key)).trim());
          const view = await nodesSeenBy(h);
          return view.find((n) => n.master && n.connected && n.slots.some(([a, b]) => slot >= a && slot <= b))?.host;
        } catch {
          /* the next node */
        }
      }
      return undefined;
    },
    whole: () => whole().catch(() => false),
    async kill(h) {
      await killHost(net, h);
    },
    start,
  };
}

export interface EngineClusters {
  postgres: PgCluster;
  rabbit: RabbitCluster;
  redis: RedisClusterOnHosts;
}

/** All three, side by side (their data under `dir`, which the hosts' teardown removes). */
export async function startEngineClusters(net: Network, dir: string, say: (line: string) => void): Promise<EngineClusters> {
  mkdirSync(dir, { recursive: true });
  const [postgres, rabbit, redis] = await Promise.all([startPgCluster(net, dir, say), startRabbitCluster(net, dir, say), startRedisCluster(net, dir, say)]);
  return { postgres, rabbit, redis };
}

/** For the run's log when something did not come up: the tail of every engine log under `dir`. */
export function engineLogTails(dir: string, chars = 1500): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.log')) out.push(`--- ${p}\n${readFileSync(p, 'utf8').slice(-chars)}`);
    }
  };
  try {
    walk(dir);
  } catch {
    /* nothing there */
  }
  return out.join('\n');
}
