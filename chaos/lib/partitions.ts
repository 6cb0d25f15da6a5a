/**
 * The network faults of a run on simulated hosts (--hosts): a partition between one role host and one engine
 * host for the fault's duration (both directions; every other path stays up), or one role host's cable
 * pulled at the switch. Which host of a role is cut comes from the fault's seeded variant, so a replay
 * cuts the same ones.
 */
import { heal, partition, setLink, type Network } from './hosts.ts';
import type { PlannedFault } from './schedule.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type NetworkFault = 'partition-worker-broker' | 'partition-worker-db' | 'partition-api-redis' | 'partition-ws-broker' | 'link-down';

/** The hosts each fault may cut: [one of these, from … to]. */
const CUTS: Record<Exclude<NetworkFault, 'link-down'>, [readonly string[], string]> = {
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
  const [candidates, peer] = CUTS[f.kind];
  const host = candidates[v % candidates.length]!;
  try {
    await partition(net, host, peer);
    await sleep(ms);
  } finally {
    await heal(net, host, peer);
  }
  return `${host} and ${peer} cut apart ${took()}`;
}
