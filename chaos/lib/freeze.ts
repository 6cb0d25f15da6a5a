/**
 * Freezing a process and everything it started (SIGSTOP, then SIGCONT): a frozen peer refuses nothing and
 * answers nothing, unlike a stopped one. Its connections stay open, the kernel keeps accepting and buffering
 * for it, and every deadline on the other side runs out while it holds what it was doing.
 */
import { readdirSync, readFileSync } from 'node:fs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parentOf(pid: number): number | undefined {
  try {
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The process and all its descendants, parents before children. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const tree: number[] = [];
  const walk = (pid: number) => {
    tree.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return tree;
}

function signal(pids: readonly number[], sig: NodeJS.Signals): number {
  let n = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
      n++;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

/** Stop one process for `ms` (its children run on), then let it go on. */
export async function freezeOne(pid: number, ms: number): Promise<void> {
  signal([pid], 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    signal([pid], 'SIGCONT');
  }
}

/**
 * Stop the tree for `ms`, then let it go on. The root is stopped first so it cannot start a child between
 * the listing and the stop (a PostgreSQL postmaster forks a backend per connection); a second listing
 * catches one it started just before.
 */
export async function freezeTree(root: number, ms: number): Promise<number> {
  signal([root], 'SIGSTOP');
  const frozen = new Set(processTree(root));
  signal([...frozen], 'SIGSTOP');
  for (const pid of processTree(root)) {
    if (frozen.has(pid)) continue;
    frozen.add(pid);
    signal([pid], 'SIGSTOP');
  }
  try {
    await sleep(ms);
  } finally {
    // Children first, so a parent that wakes finds its children running (no spurious "child stopped" waits).
    signal([...frozen].reverse(), 'SIGCONT');
  }
  return frozen.size;
}
