/**
 * The network faults of a run on simulated hosts (--hosts): a partition between one role host and an engine
 * (every node of its cluster) for the fault's duration (both directions; every other path stays up), or one
 * role host's cable pulled at the switch. Which host of a role is cut comes from the fault's seeded variant, so
 * a replay cuts the same ones.
 */
import { ENGINE_GROUPS } from './engine-clusters.ts';
import { heal, partition, setLink, type Network } from './hosts.ts';
import type { PlannedFault } from './schedule.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type NetworkFault = 'partition-worker-broker' | 'partition-worker-db' | 'partition-api-redis' | 'partition-ws-broker' | 'link-down';

/** The hosts each fault may cut: [one of these, from that engine]. */
const CUTS: Record<Exclude<NetworkFault, 'link-down'>, [readonly string[], keyof typeof ENGINE_GROUPS]> = {
  'partition-worker-broker': [['worker-1', 'worker-2'], 'rabbitmq'],
  'partition-worker-db': [['worker-1', 'worker-2'], 'postgres'],
  'partition-api-redis': [['api-1', 'api-2'], 'redis'],
  'partition-ws-broker': [['ws-1'], 'rabbitmq'],
};
const ROLE_HOSTS = ['api-1', 'api-2', 'worker-1', 'worker-2', 'ws-1'];

/** Fire one network fault; resolves once it has healed. */
export async function cutNetwork(net: Network | undefined, f: PlannedFault & { kind: NetworkFault }): Promise<string> {
  if (!net) throw new Error(`${f.kind} needs simulated hosts (--hosts)`);
  const ms = f.downMs ?? 10_000;
  const v = f.variant ?? 0;
  const started = Date.now();
  const took = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  if (f.kind === 'link-down') {
    const host = ROLE_HOSTS[v % ROLE_HOSTS.length]!;
    await setLink(net, host, false);
    try {
      await sleep(ms);
    } finally {
      await setLink(net, host, true);
    }
    return `${host}'s link down ${took()}`;
  }
  const [candidates, engine] = CUTS[f.kind];
  const host = candidates[v % candidates.length]!;
  const peers = enginePeers(net, engine);
  await cutApart(net, [host], peers, ms);
  return `${host} and ${engine} (${peers.join(', ')}) cut apart ${took()}`;
}

/** The hosts of an engine: its cluster's nodes, or the one host of a single engine. */
export function enginePeers(net: Network, engine: keyof typeof ENGINE_GROUPS): readonly string[] {
  return net.hosts.some((h) => h.name === ENGINE_GROUPS[engine][0]) ? ENGINE_GROUPS[engine] : [engine];
}

/** Every host of `a` cut from every host of `b` for `ms`, then healed (also when something throws). */
export async function cutApart(net: Network, a: readonly string[], b: readonly string[], ms: number, meanwhile?: () => Promise<void>): Promise<void> {
  const pairs = a.flatMap((x) => b.map((y) => [x, y] as const));
  // All cuts at once (and all heals): one after another they took seconds each on a busy machine.
  try {
    await Promise.all(pairs.map(([x, y]) => partition(net, x, y)));
    await Promise.all([sleep(ms), meanwhile?.()]);
  } finally {
    await Promise.all(pairs.map(([x, y]) => heal(net, x, y)));
  }
}
