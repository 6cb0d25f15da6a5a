/**
 * Simulated hosts for `npm run chaos -- --hosts`: every role process and every engine in a Linux network
 * namespace of its own (`seckill-<run>-<host>`), with one private address, all joined by one switch.
 *
 * - The switch is a Linux bridge in a namespace of its own (`seckill-<run>-switch`), so the machine's own
 *   network (the root namespace) never gains a link, an address, a route or a rule. Each host is a veth
 *   pair: `eth0` with 10.<x>.<y>.N/24 in the host, its twin (named after the host) on the bridge.
 * - The driver (buyers, faults, checker) is a host too: the run starts itself again inside `driver` with
 *   `ip netns exec`. A veth from the root namespace into the switch would have done as well, but it would
 *   put an address and a route of the run's into the machine's own network, where they can meet a real
 *   10.x network and outlive a crashed run; inside a namespace every packet stays on links the run made.
 * - A partition is an `inet` nftables table in each of the two hosts dropping what comes from and goes to
 *   the other (both directions, both ends, as when a link between two racks fails); healing deletes the
 *   tables. `link-down` takes a host's port on the switch down: its cable pulled, every peer at once.
 * - `ip netns exec` enters the namespace and then execs the program (execvp after setns, no fork), so the
 *   pid a caller gets is the program's own: kill -9 and SIGSTOP reach it (hosts.test.ts checks it).
 * - Cleanup: a marker in /run/seckill-chaos/<run>.json names the run's owner process (pid and start time)
 *   and its folder. Removing a network kills every process inside its namespaces (the engines asked to
 *   stop first, so PostgreSQL gives back its shared memory) and deletes them: their links and nftables
 *   tables go with them. Whoever finds namespaces of a run whose owner is gone (kill -9, a crash) removes
 *   them the same way, with the engine data in that run's folder.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const NS_PREFIX = 'seckill-';
const MARKER_DIR = '/run/seckill-chaos';
/** The engines' data folders inside a run's folder: single engines by name, the clusters' nodes under `engines`. */
const ENGINE_DATA = ['postgres', 'redis', 'rabbitmq', 'engines'];

export interface Host {
  name: string;
  /** Its network namespace. */
  ns: string;
  addr: string;
  /** Its port on the switch (the veth twin of its eth0). */
  port: string;
  /** An engine: asked to stop (SIGTERM) before anything left is killed. */
  engine: boolean;
}

export interface Network {
  runId: string;
  switchNs: string;
  /** 10.x.y.0/24 */
  subnet: string;
  hosts: Host[];
  /** Folder of the run's files (logs, engine data), if any. */
  dir?: string;
}

export function hostOf(net: Network, name: string): Host {
  const host = net.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no host ${name} in run ${net.runId}`);
  return host;
}

/** The command line that runs `file args` inside the host (or as it is, without one). */
export function inHost(host: { ns: string } | undefined, file: string, args: readonly string[]): [string, string[]] {
  return host ? ['ip', ['netns', 'exec', host.ns, file, ...args]] : [file, [...args]];
}

async function run(file: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`))));
    if (input !== undefined) child.stdin!.on('error', () => undefined).end(input);
  });
}

/** Can this process build hosts? (root, `ip` and `nft` installed) — the reason when it cannot. */
export async function hostsUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'simulated hosts need root (network namespaces)';
  for (const [tool, pkg] of [['ip', 'iproute2'], ['nft', 'nftables']] as const) {
    if (!(await exec(tool, ['-V']).then(() => true, () => false))) return `${tool} not found (apt-get install -y ${pkg})`;
  }
  return null;
}

/** Start time of a process in clock ticks since boot: with the pid, it names one process for good. */
function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Builds the switch and one host per name (in this order: .1, .2, …). `engines` are hosts whose processes
 * are asked to stop before they are killed. On any failure, what was built is removed again.
 */
export async function createNetwork(names: readonly string[], opts: { engines?: readonly string[]; dir?: string } = {}): Promise<Network> {
  const runId = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  // Any 10.x.y/24 would do (nothing outside the run's namespaces sees it); one per run keeps logs apart.
  const subnet = `10.${200 + Math.floor(Math.random() * 55)}.${Math.floor(Math.random() * 256)}`;
  const net: Network = {
    runId,
    switchNs: `${NS_PREFIX}${runId}-switch`,
    subnet: `${subnet}.0/24`,
    hosts: names.map((name, i) => ({ name, ns: `${NS_PREFIX}${runId}-${name}`, addr: `${subnet}.${i + 1}`, port: `p-${name}`.slice(0, 15), engine: opts.engines?.includes(name) ?? false })),
    ...(opts.dir ? { dir: opts.dir } : {}),
  };
  // The marker first: a crash from here on leaves nothing a later run cannot find.
  mkdirSync(MARKER_DIR, { recursive: true });
  writeFileSync(markerOf(runId), JSON.stringify({ pid: process.pid, start: startOf(process.pid), network: net }));
  try {
    const sw = net.switchNs;
    await run('ip', ['netns', 'add', sw]);
    await run('ip', ['-n', sw, 'link', 'add', 'switch', 'type', 'bridge']);
    await run('ip', ['-n', sw, 'link', 'set', 'switch', 'up']);
    for (const h of net.hosts) {
      await run('ip', ['netns', 'add', h.ns]);
      await run('ip', ['-n', h.ns, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', sw, 'link', 'add', h.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns]);
      await run('ip', ['-n', sw, 'link', 'set', h.port, 'master', 'switch', 'up']);
      await run('ip', ['-n', h.ns, 'addr', 'add', `${h.addr}/24`, 'dev', 'eth0']);
      await run('ip', ['-n', h.ns, 'link', 'set', 'eth0', 'up']);
    }
  } catch (err) {
    await destroyNetwork(net);
    throw err;
  }
  return net;
}

const markerOf = (runId: string) => path.join(MARKER_DIR, `${runId}.json`);

async function pidsIn(ns: string): Promise<number[]> {
  const out = await run('ip', ['netns', 'pids', ns]).catch(() => '');
  return out.split('\n').filter(Boolean).map(Number);
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone meanwhile */
    }
  }
}

async function emptyNamespace(ns: string, gentleMs: number): Promise<void> {
  let pids = await pidsIn(ns);
  if (pids.length > 0 && gentleMs > 0) {
    // SIGCONT too: a frozen engine cannot stop.
    signal(pids, 'SIGTERM');
    signal(pids, 'SIGCONT');
    for (const until = Date.now() + gentleMs; pids.length > 0 && Date.now() < until; pids = await pidsIn(ns)) await sleep(200);
  }
  for (let i = 0; i < 50 && pids.length > 0; i++, pids = await pidsIn(ns)) {
    signal(pids, 'SIGKILL');
    await sleep(100);
  }
}

/** The host loses power: every process in it killed at once (kill -9), its network and files left as they are. */
export async function killHost(net: Network, name: string): Promise<number> {
  const pids = await pidsIn(hostOf(net, name).ns);
  await emptyNamespace(hostOf(net, name).ns, 0);
  return pids.length;
}

/**
 * Removes the network: every process inside killed (roles and driver at once, then the engines, asked
 * first), every namespace deleted with its links and tables, the engine data of its folder, its marker.
 */
export async function destroyNetwork(net: Network, opts: { gentleMs?: number } = {}): Promise<void> {
  const roles = net.hosts.filter((h) => !h.engine).map((h) => h.ns);
  await Promise.all(roles.map((ns) => emptyNamespace(ns, 0)));
  await Promise.all(net.hosts.filter((h) => h.engine).map((h) => emptyNamespace(h.ns, opts.gentleMs ?? 10_000)));
  await emptyNamespace(net.switchNs, 0);
  const existing = await namespaces();
  for (const ns of [...net.hosts.map((h) => h.ns), net.switchNs]) {
    if (existing.includes(ns)) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
  if (net.dir) removeEngineData(net.dir);
  rmSync(markerOf(net.runId), { force: true });
}

/** The engines' data folders (anywhere one level below the run's folder); logs and reports stay. */
function removeEngineData(dir: string): void {
  let runs: string[];
  try {
    runs = readdirSync(dir);
  } catch {
    return;
  }
  for (const r of runs) {
    if (!statSync(path.join(dir, r), { throwIfNoEntry: false })?.isDirectory()) continue;
    for (const sub of ENGINE_DATA) rmSync(path.join(dir, r, sub), { recursive: true, force: true });
  }
  try {
    if (readdirSync(dir).every((r) => readdirSync(path.join(dir, r)).length === 0)) rmSync(dir, { recursive: true, force: true });
  } catch {
    /* a file, not a run folder: leave it */
  }
}

async function namespaces(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']).catch(() => '');
  return out.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

/** Runs whose owner is gone: their namespaces, processes and engine data removed. Returns their ids. */
export async function removeLeftovers(): Promise<string[]> {
  const ids = new Set<string>();
  for (const ns of await namespaces()) {
    const m = /^seckill-([a-z0-9]{6})-/.exec(ns);
    if (m) ids.add(m[1]!);
  }
  try {
    for (const f of readdirSync(MARKER_DIR)) if (f.endsWith('.json')) ids.add(f.slice(0, -5));
  } catch {
    /* no marker folder: no run ever */
  }
  const removed: string[] = [];
  for (const runId of ids) {
    let marker: { pid: number; start?: string; network: Network } | undefined;
    try {
      marker = JSON.parse(readFileSync(markerOf(runId), 'utf8')) as typeof marker;
    } catch {
      /* namespaces without a marker: their run is gone (the marker is written before them, removed after) */
    }
    if (marker && startOf(marker.pid) !== undefined && startOf(marker.pid) === marker.start) continue;
    const net: Network = marker?.network ?? { runId, switchNs: `${NS_PREFIX}${runId}-switch`, subnet: '', hosts: [] };
    for (const ns of await namespaces()) {
      // Hosts the marker does not list (it never got one) are treated as engines: asked to stop first.
      if (ns.startsWith(`${NS_PREFIX}${runId}-`) && ns !== net.switchNs && !net.hosts.some((h) => h.ns === ns)) {
        net.hosts.push({ name: ns, ns, addr: '', port: '', engine: true });
      }
    }
    await destroyNetwork(net, { gentleMs: 5000 });
    removed.push(runId);
  }
  return removed;
}

const tableOf = (net: Network, peer: Host) => `seckill_${net.runId}_cut_${peer.name.replace(/[^a-z0-9]/g, '_')}`;

/** Nothing passes between the two hosts any more, either way; each still reaches everyone else. */
export async function partition(net: Network, a: string, b: string): Promise<void> {
  const [ha, hb] = [hostOf(net, a), hostOf(net, b)];
  for (const [self, peer] of [[ha, hb], [hb, ha]] as const) {
    const table = tableOf(net, peer);
    const rules = [
      `table inet ${table} {`,
      `  chain input { type filter hook input priority 0; policy accept; ip saddr ${peer.addr} drop; }`,
      `  chain output { type filter hook output priority 0; policy accept; ip daddr ${peer.addr} drop; }`,
      '}',
      '',
    ].join('\n');
    await run('ip', ['netns', 'exec', self.ns, 'nft', '-f', '-'], rules);
  }
}

export async function heal(net: Network, a: string, b: string): Promise<void> {
  const [ha, hb] = [hostOf(net, a), hostOf(net, b)];
  for (const [self, peer] of [[ha, hb], [hb, ha]] as const) {
    await run('ip', ['netns', 'exec', self.ns, 'nft', 'delete', 'table', 'inet', tableOf(net, peer)]).catch(() => undefined);
  }
}

/** The host's port on the switch down (its cable pulled) or up again. */
export async function setLink(net: Network, name: string, up: boolean): Promise<void> {
  await run('ip', ['-n', net.switchNs, 'link', 'set', hostOf(net, name).port, up ? 'up' : 'down']);
}

/** The nftables tables in a host (for the test and for a check after a heal). */
export async function tablesIn(net: Network, name: string): Promise<string[]> {
  const out = await run('ip', ['netns', 'exec', hostOf(net, name).ns, 'nft', 'list', 'tables']);
  return out.split('\n').filter(Boolean);
}
