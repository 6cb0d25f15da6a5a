/**
 * One scrape for every api process forked on one port (SECKILL_API_PROCESSES > 1). The port hands each
 * connection to any fork, so a fork's own figures would jump from scrape to scrape. Instead the fork that
 * takes a scrape asks the primary; the primary asks every fork for its figures over the cluster's IPC
 * channel, adds its own (the roles it runs itself, and its process), and sums them with prom-client's
 * `AggregatorRegistry.aggregate`: counters and histograms summed, each gauge as its `aggregator` says.
 *
 * Not prom-client's `clusterMetrics()`: it waits for every fork and, after a fixed 5 s, fails the whole
 * answer, and it leaves out the primary's own registry. Here a fork silent past the deadline is answered
 * for with the figures it gave last (so no sum goes down), the answer says which process that was
 * (`seckill_scrape_processes` and a comment naming its pid), and a fork that exited leaves its counters and
 * histograms in the sums, as it last gave them: while the primary answers, no counter of a scrape goes back.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, Gauge, Registry, type PrometheusContentType } from 'prom-client';

export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** How long the primary waits for a fork's figures. */
export const FORK_DEADLINE_MS = 2_000;
/** How long a fork waits for the primary's sum (its own deadline, plus summing). */
export const PRIMARY_DEADLINE_MS = 4_000;

const ASK_FORK = 'seckill:metrics:ask-fork';
const FORK_FIGURES = 'seckill:metrics:fork-figures';
const ASK_PRIMARY = 'seckill:metrics:ask-primary';
const PRIMARY_SUM = 'seckill:metrics:primary-sum';

/** Kinds of metric that only grow: a fork that exited keeps adding its last figures of these. */
const GROWING = new Set(['counter', 'histogram', 'summary']);

export interface Fork {
  id: number;
  pid: number | undefined;
  /** Not serving yet: not asked, and counted missing without a warning. */
  starting?: boolean;
  /** Sends the request for this fork's figures; false when its channel is closed. */
  ask(requestId: number): boolean;
}

export interface ProcessCounts {
  /** Processes whose figures are from this scrape. */
  answered: number;
  /** Processes that gave none within the deadline: their last figures are used. */
  late: number;
  /** Processes of which this answer holds no figures at all. */
  missing: number;
}

/** `seckill_scrape_processes{state}` in `registry`: whose figures a scrape holds. */
export function countProcesses(registry: Registry, counts: ProcessCounts): void {
  const gauge = new Gauge({
    name: 'seckill_scrape_processes',
    help: 'Processes in this scrape: answered (figures of now), late (no answer within the deadline: its last figures), missing (none)',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  for (const state of ['answered', 'late', 'missing'] as const) gauge.set({ state }, counts[state]);
}

/**
 * The primary's side, free of node:cluster so that it can be tested: `forks()` are the forks running now,
 * `report` takes what a fork answered (undefined: it failed to collect), `retire` a fork that exited.
 */
export function createMetricsGatherer(opts: {
  own: () => Promise<MetricsJson>;
  forks: () => Fork[];
  deadlineMs: number;
  /** A fork that gave no figures in time; `usedLast`: the ones it gave before stand in. */
  onLate?: (fork: Fork, usedLast: boolean) => void;
}) {
  let lastRequestId = 0;
  const last = new Map<number, { requestId: number; figures: MetricsJson }>();
  let lastOwn: MetricsJson | undefined;
  const waiting = new Map<number, { expected: Set<number>; done(): void }>();
  const exited = new Set<number>();
  // Only appended to, and its head replaced by its own sum: a scrape taken meanwhile sees the same totals.
  let retired: MetricsJson[] = [];
  let summing = false;
  let inFlight: Promise<string> | undefined;

  const stopWaitingFor = (forkId: number, requestId?: number) => {
    for (const [id, w] of waiting) {
      if (requestId !== undefined && id !== requestId) continue;
      if (w.expected.delete(forkId) && w.expected.size === 0) w.done();
    }
  };

  async function sumRetired(): Promise<void> {
    if (summing || retired.length < 2) return;
    summing = true;
    try {
      const parts = retired.slice();
      const sum = await AggregatorRegistry.aggregate<PrometheusContentType>(parts).getMetricsAsJSON();
      retired = [sum, ...retired.slice(parts.length)];
    } finally {
      summing = false;
    }
    await sumRetired();
  }

  async function gatherOnce(): Promise<string> {
    const requestId = ++lastRequestId;
    const forks = opts.forks().filter((f) => !exited.has(f.id));
    // The primary's own figures have the same deadline: a collect that hangs (a queue depth read from a
    // broker that does not answer) must not hold the scrape either.
    let ownTimer: ReturnType<typeof setTimeout> | undefined;
    const own = Promise.race([
      opts.own().catch(() => undefined),
      new Promise<undefined>((resolve) => {
        ownTimer = setTimeout(() => resolve(undefined), opts.deadlineMs);
      }),
    ]).finally(() => clearTimeout(ownTimer));
    // Waited for before asking, so that an answer that comes back at once is not missed.
    const round = { expected: new Set(forks.filter((f) => !f.starting).map((f) => f.id)), done: () => undefined };
    waiting.set(requestId, round);
    for (const fork of forks) if (!fork.starting && !fork.ask(requestId)) round.expected.delete(fork.id);
    if (round.expected.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.deadlineMs);
        round.done = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    waiting.delete(requestId);
    const ownNow = await own;
    // From here to the sum nothing awaits: which forks count, and how, is one consistent picture.
    const counts: ProcessCounts = { answered: 0, late: 0, missing: 0 };
    const parts: MetricsJson[] = [];
    const notes: string[] = [];
    const ownFigures = ownNow ?? lastOwn;
    lastOwn = ownFigures;
    counts[ownNow ? 'answered' : ownFigures ? 'late' : 'missing']++;
    if (ownFigures) parts.push(ownFigures);
    if (!ownNow) notes.push(`# seckill: the primary process (pid ${process.pid}) gave no figures of its own within ${opts.deadlineMs} ms${ownFigures ? '; its last figures are used' : ''}`);
    for (const fork of forks) {
      if (exited.has(fork.id)) continue; // its figures are in `retired` now
      const got = last.get(fork.id);
      if (got && got.requestId >= requestId) {
        counts.answered++;
      } else {
        counts[got ? 'late' : 'missing']++;
        if (fork.starting) {
          notes.push(`# seckill: api process pid ${fork.pid ?? '?'} is starting`);
        } else {
          opts.onLate?.(fork, got !== undefined);
          notes.push(`# seckill: api process pid ${fork.pid ?? '?'} gave no figures within ${opts.deadlineMs} ms${got ? '; its last figures are used' : ''}`);
        }
      }
      if (got) parts.push(got.figures);
    }
    const registry = AggregatorRegistry.aggregate<PrometheusContentType>([...parts, ...retired]);
    countProcesses(registry, counts);
    const text = await registry.metrics();
    return notes.length > 0 ? `${notes.join('\n')}\n${text}` : text;
  }

  return {
    /** The sum over this process and every fork. Scrapes that arrive while one is being gathered share it. */
    gather(): Promise<string> {
      inFlight ??= gatherOnce().finally(() => (inFlight = undefined));
      return inFlight;
    },
    report(forkId: number, requestId: number, figures: MetricsJson | undefined): void {
      if (exited.has(forkId)) return;
      const prev = last.get(forkId);
      // A late answer still counts as the fork's last figures, unless a newer one came first.
      if (figures && (!prev || prev.requestId < requestId)) last.set(forkId, { requestId, figures });
      stopWaitingFor(forkId, requestId);
    },
    retire(forkId: number): void {
      if (exited.has(forkId)) return;
      exited.add(forkId);
      const got = last.get(forkId);
      last.delete(forkId);
      stopWaitingFor(forkId);
      if (!got) return;
      retired.push(got.figures.filter((m) => GROWING.has(String(m.type))));
      void sumRetired().catch(() => undefined);
    },
  };
}

type Message = { type?: unknown; requestId?: unknown; figures?: unknown; text?: unknown };
const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null;

/**
 * In the primary: answer every fork's request for the cluster-wide figures, gathered from `own` and from
 * every fork. Returns the same gathering for the primary's own metrics port.
 */
export function serveClusterMetrics(own: Registry, opts: { deadlineMs?: number; onLate?: (pid: number | undefined, usedLast: boolean) => void } = {}): { scrape(): Promise<string> } {
  // A fork is asked once its HTTP server listens: before, it serves nothing and may not listen to the primary yet.
  const listening = new Set<number>();
  cluster.on('listening', (worker) => listening.add(worker.id));
  const gatherer = createMetricsGatherer({
    own: () => own.getMetricsAsJSON(),
    deadlineMs: opts.deadlineMs ?? FORK_DEADLINE_MS,
    onLate: (fork, usedLast) => opts.onLate?.(fork.pid, usedLast),
    forks: () =>
      Object.values(cluster.workers ?? {}).flatMap((worker) =>
        worker
          ? [{
              id: worker.id,
              pid: worker.process.pid,
              starting: !listening.has(worker.id),
              ask: (requestId: number) => {
                if (!worker.isConnected()) return false;
                // A channel that closes meanwhile reports here, not as an 'error' event nobody listens to.
                worker.send({ type: ASK_FORK, requestId }, undefined, undefined, () => undefined);
                return true;
              },
            }]
          : [],
      ),
  });
  const scrape = () =>
    gatherer.gather().catch(async (err: unknown) => `# seckill: the figures of the api processes could not be summed (${String(err)}); the primary's alone\n${await own.metrics()}`);

  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage(message) || typeof message.requestId !== 'number') return;
    if (message.type === FORK_FIGURES) gatherer.report(worker.id, message.requestId, Array.isArray(message.figures) ? (message.figures as MetricsJson) : undefined);
    if (message.type === ASK_PRIMARY) {
      const requestId = message.requestId;
      void scrape().then((text) => {
        if (worker.isConnected()) worker.send({ type: PRIMARY_SUM, requestId, text }, undefined, undefined, () => undefined);
      });
    }
  });
  cluster.on('exit', (worker) => {
    listening.delete(worker.id);
    gatherer.retire(worker.id);
  });
  return { scrape };
}

let forkRegistry: Registry | undefined;
let lastAsk = 0;
const asked = new Map<number, (text: string) => void>();

/**
 * In a forked api process: give `registry`'s figures to the primary when it asks, and return what a scrape
 * of this process answers: the primary's sum; if the primary does not answer in time, this process's own
 * figures, saying so. Never fails.
 */
export function joinClusterMetrics(registry: Registry, deadlineMs = PRIMARY_DEADLINE_MS): () => Promise<string> {
  if (!forkRegistry) {
    process.on('message', (message: unknown) => {
      if (!isMessage(message) || typeof message.requestId !== 'number') return;
      const requestId = message.requestId;
      if (message.type === PRIMARY_SUM && typeof message.text === 'string') asked.get(requestId)?.(message.text);
      if (message.type === ASK_FORK && forkRegistry) {
        forkRegistry.getMetricsAsJSON().then(
          (figures) => process.send?.({ type: FORK_FIGURES, requestId, figures }, undefined, undefined, () => undefined),
          () => process.send?.({ type: FORK_FIGURES, requestId }, undefined, undefined, () => undefined),
        );
      }
    });
  }
  forkRegistry = registry;

  const alone = async (why: string) => {
    const counts = new Registry();
    countProcesses(counts, { answered: 1, late: 0, missing: 1 });
    return `# seckill: ${why}; these are the figures of api process pid ${process.pid} alone\n${await registry.metrics()}${await counts.metrics()}`;
  };
  return () => {
    if (!process.send || !process.connected) return alone('the primary process is gone');
    const requestId = ++lastAsk;
    return new Promise<string>((resolve) => {
      const timer = setTimeout(() => {
        asked.delete(requestId);
        resolve(alone(`the primary process gave no sum within ${deadlineMs} ms`));
      }, deadlineMs);
      asked.set(requestId, (text) => {
        clearTimeout(timer);
        asked.delete(requestId);
        resolve(text);
      });
      process.send!({ type: ASK_PRIMARY, requestId }, undefined, undefined, () => undefined);
    });
  };
}
