import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readlinkSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, destroyNetwork, heal, hostOf, hostsUnavailable, partition, removeLeftovers, setLink, tablesIn, type Network } from './hosts.ts';

const exec = promisify(execFile);
const unavailable = await hostsUnavailable();
if (unavailable && process.env.CI !== 'true') console.warn(`simulated hosts tests skipped: ${unavailable}`);

const PORT = 7411;
const SERVER = `require('node:net').createServer((s) => s.end('hello')).listen(${PORT}, process.argv[1], () => console.log('listening'))`;
// Prints what a connection attempt came to within 1.5 s: ok, timeout or the error's code.
const CLIENT = `const s = require('node:net').connect({ host: process.argv[1], port: ${PORT}, timeout: 1500 });
s.once('data', () => { console.log('ok'); s.destroy(); });
s.once('timeout', () => { console.log('timeout'); s.destroy(); });
s.once('error', (e) => console.log(e.code));`;

async function connectFrom(net: Network, from: string, to: string): Promise<string> {
  const { stdout } = await exec('ip', ['netns', 'exec', hostOf(net, from).ns, process.execPath, '-e', CLIENT, hostOf(net, to).addr]);
  return stdout.trim();
}

async function namespaces(): Promise<string> {
  return (await exec('ip', ['netns', 'list'])).stdout;
}

describe.skipIf(unavailable !== null && process.env.CI !== 'true')('simulated hosts', () => {
  let net: Network;
  let server: ChildProcess;

  beforeAll(async () => {
    if (unavailable) throw new Error(`simulated hosts: ${unavailable}`);
    net = await createNetwork(['a', 'b']);
    server = spawn('ip', ['netns', 'exec', hostOf(net, 'a').ns, process.execPath, '-e', SERVER, hostOf(net, 'a').addr], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      server.stdout!.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    });
  });

  afterAll(async () => {
    if (net) await destroyNetwork(net);
  });

  it('runs a program inside its host under the pid its caller got (ip netns exec execs, no fork)', () => {
    const pid = server.pid!;
    expect(readlinkSync(`/proc/${pid}/exe`)).toBe(process.execPath);
    expect(statSync(`/proc/${pid}/ns/net`).ino).toBe(statSync(`/run/netns/${hostOf(net, 'a').ns}`).ino);
  });

  it('joins the hosts by the switch; a partition drops everything between them until it heals', async () => {
    expect(await connectFrom(net, 'b', 'a')).toBe('ok');
    await partition(net, 'a', 'b');
    expect((await tablesIn(net, 'a')).length).toBe(1);
    expect((await tablesIn(net, 'b')).length).toBe(1);
    expect(await connectFrom(net, 'b', 'a')).toBe('timeout');
    await heal(net, 'a', 'b');
    expect(await tablesIn(net, 'a')).toEqual([]);
    expect(await tablesIn(net, 'b')).toEqual([]);
    expect(await connectFrom(net, 'b', 'a')).toBe('ok');
  });

  it('takes a host off the switch (link down) and back', async () => {
    await setLink(net, 'a', false);
    expect(await connectFrom(net, 'b', 'a')).toBe('timeout');
    await setLink(net, 'a', true);
    expect(await connectFrom(net, 'b', 'a')).toBe('ok');
  });

  it('removes every namespace and process of the network, and a crashed run\'s leftovers', async () => {
    await destroyNetwork(net);
    const listed = await namespaces();
    expect(listed).not.toContain(`seckill-${net.runId}-`);
    expect(existsSync(`/proc/${server.pid}/ns/net`)).toBe(false);
    expect(existsSync(`/run/seckill-chaos/${net.runId}.json`)).toBe(false);

    // A run whose owner died without cleaning up: a later run finds it by its marker and removes it.
    const orphan = spawn('true', { stdio: 'ignore' });
    await new Promise((r) => orphan.once('exit', r));
    const left = await createNetwork(['c']);
    const sleeper = spawn('ip', ['netns', 'exec', hostOf(left, 'c').ns, 'sleep', '60'], { stdio: 'ignore' });
    await exec('sh', ['-c', `sed -i 's/"pid":[0-9]*/"pid":${orphan.pid}/' /run/seckill-chaos/${left.runId}.json`]);
    expect(await removeLeftovers()).toContain(left.runId);
    expect(await namespaces()).not.toContain(`seckill-${left.runId}-`);
    await new Promise((r) => (sleeper.exitCode !== null || sleeper.signalCode !== null ? r(null) : sleeper.once('exit', r)));
    expect(sleeper.signalCode).toBe('SIGKILL');
  });
});
