/**
 * The chaos run on simulated hosts (--hosts; the network itself: hosts.ts). The run started from the shell
 * stays in the machine's own namespace and only owns the network: it removes what an earlier run left,
 * builds the hosts, starts the run again inside the `driver` host (same program, same arguments, the
 * network handed over in SECKILL_CHAOS_NETWORK) and, however that ends — its exit, a crash, Ctrl-C, a
 * SIGTERM — removes every namespace, process and engine data folder of the run.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLUSTER_HOSTS } from './engine-clusters.ts';
import { createNetwork, destroyNetwork, hostOf, hostsUnavailable, removeLeftovers, type Network } from './hosts.ts';
import type { RoleSpec } from './supervisor.ts';

const ENV = 'SECKILL_CHAOS_NETWORK';

/** Inside the driver host: the network the outer run built; undefined outside. */
export function attachedNetwork(): Network | undefined {
  const json = process.env[ENV];
  return json ? (JSON.parse(json) as Network) : undefined;
}

/** Each role on the host of its name, listening on that host's address. */
export function placeRoles(specs: RoleSpec[], net: Network | undefined): RoleSpec[] {
  if (!net) return specs;
  return specs.map((s) => {
    const h = hostOf(net, s.name);
    return { ...s, netns: h.ns, env: { ...s.env, HOST: h.addr } };
  });
}

/** Where the driver reaches a host: its address, or loopback when every process shares one host. */
export function addressOf(net: Network | undefined, name: string): string {
  return net ? hostOf(net, name).addr : '127.0.0.1';
}

/** The outer run: builds the hosts for these roles, runs the chaos run on them, removes everything. */
export async function runOnHosts(roles: readonly string[], say: (line: string) => void): Promise<number> {
  const why = await hostsUnavailable();
  if (why) {
    say(`--hosts: ${why}`);
    return 1;
  }
  const left = await removeLeftovers();
  if (left.length > 0) say(`removed what earlier runs left behind: ${left.map((id) => `seckill-${id}-*`).join(', ')}`);

  let net: Network | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  let interrupted: NodeJS.Signals | undefined;
  // Ctrl-C reaches the whole process group; a kill of this process alone is passed on. Either way the
  // driver ends and the `finally` below removes the network; a driver that does not end is killed.
  const onSignal = (sig: NodeJS.Signals) => {
    // tsx passes a Ctrl-C on too: one line for both.
    if (!interrupted) say(`${sig}: stopping the run and removing its hosts`);
    interrupted = sig;
    child?.kill('SIGTERM');
    setTimeout(() => child?.kill('SIGKILL'), 5000).unref();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    // The run's files below one folder of its own, so a teardown finds them (and a later run, from the marker).
    const dir = path.join(os.tmpdir(), `seckill-hosts-${process.pid}-${Date.now().toString(36)}`);
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    net = await createNetwork(['driver', ...CLUSTER_HOSTS, ...roles], { engines: CLUSTER_HOSTS, dir });
    say(`hosts (run ${net.runId}, ${net.subnet}, a bridge in ${net.switchNs}): ${net.hosts.map((h) => `${h.name} ${h.addr}`).join(', ')}`);
    if (interrupted) return 130;
    const driver = hostOf(net, 'driver');
    const argv = [...process.execArgv, ...process.argv.slice(1)];
    child = spawn('ip', ['netns', 'exec', driver.ns, process.execPath, ...argv], {
      stdio: 'inherit',
      env: { ...process.env, [ENV]: JSON.stringify(net) },
    });
    const code = await new Promise<number>((resolve) => {
      child!.once('error', (err) => {
        say(`could not start the run in the driver host: ${err.message}`);
        resolve(1);
      });
      child!.once('exit', (c, s) => resolve(c ?? (s ? 128 + (os.constants.signals[s] ?? 0) : 1)));
    });
    return interrupted ? 130 : code;
  } finally {
    if (net) {
      await destroyNetwork(net).catch((err: unknown) => say(`removing the hosts failed: ${(err as Error).message}`));
      say(`hosts of run ${net.runId} removed${existsSync(net.dir!) ? `; logs kept in ${net.dir}` : ''}`);
    }
    for (const s of signals) process.off(s, onSignal);
  }
}
