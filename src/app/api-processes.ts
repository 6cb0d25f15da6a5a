/**
 * SECKILL_API_PROCESSES=N (services mode): this process becomes the primary of a node:cluster and forks N
 * api processes that share its HTTP port (the primary hands out connections). Only the api role is forked;
 * the primary itself runs the other roles of SECKILL_ROLES (worker, ws), once.
 *
 * - A forked process that exits unexpectedly is forked again, after a wait that doubles with each exit in
 *   a row that came soon after its start (up to 30 s), so a crash loop does not spin the machine.
 * - SIGTERM / SIGINT: no more forks; every api process gets SIGTERM and drains as a single process does
 *   (stops taking requests, answers those in hand, publishes its last batch); the primary's own roles stop
 *   after the last api process has exited.
 * - A scrape of /metrics, whichever api process takes it, answers with the sum over every api process and
 *   the primary (cluster-metrics.ts); `scrape` gives the same to the primary's own metrics port.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { prometheusContentType, type Registry } from 'prom-client';
import type { Config } from './config.ts';
import { serveClusterMetrics } from '../entry-points/cluster-metrics.ts';
import { startMetricsServer, type MetricsServer } from '../entry-points/metrics-server.ts';

/** A forked process that lived at least this long resets the restart wait. */
const STABLE_AFTER_MS = 10_000;
const FIRST_RESTART_WAIT_MS = 250;
const MAX_RESTART_WAIT_MS = 30_000;
/** Past this, an api process still draining is killed. */
const DRAIN_DEADLINE_MS = 20_000;

export interface ApiProcesses {
  /** Sends SIGTERM to every api process and resolves once all have exited. */
  stop(): Promise<void>;
  /** The metrics of every api process and of `ownMetrics`, summed; never fails. */
  scrape(): Promise<string>;
}

/** `ownMetrics`: the primary's registry (its own roles and process), counted once in every scrape. */
export function forkApiProcesses(count: number, logger: Logger, ownMetrics: Registry): ApiProcesses {
  const log = logger.child({ component: 'api-processes' });
  const { scrape } = serveClusterMetrics(ownMetrics, {
    onLate: (pid, usedLast) => log.warn({ pid, usedLast }, 'an api process gave no metrics within the scrape deadline'),
  });
  let stopping = false;
  let quickExits = 0;
  const startedAt = new Map<Worker, number>();

  const fork = () => {
    // The forked process runs main.ts again: as a cluster worker with the api role only, it never forks.
    // METRICS_PORT is the primary's: there it serves the sum over every process, as PORT/metrics does.
    const worker = cluster.fork({ SECKILL_ROLES: 'api', METRICS_PORT: '' });
    startedAt.set(worker, Date.now());
    worker.on('exit', (code, signal) => {
      const lived = Date.now() - (startedAt.get(worker) ?? 0);
      startedAt.delete(worker);
      if (stopping) return;
      quickExits = lived >= STABLE_AFTER_MS ? 0 : quickExits + 1;
      const waitMs = quickExits === 0 ? 0 : Math.min(MAX_RESTART_WAIT_MS, FIRST_RESTART_WAIT_MS * 2 ** (quickExits - 1));
      log.error({ pid: worker.process.pid, code, signal, restartInMs: waitMs }, 'an api process exited unexpectedly; forking a new one');
      setTimeout(() => {
        if (!stopping) fork();
      }, waitMs).unref();
    });
  };
  for (let i = 0; i < count; i++) fork();
  log.info({ processes: count }, 'api processes forked');

  return {
    scrape,
    async stop() {
      stopping = true;
      const running = [...startedAt.keys()];
      await Promise.all(
        running.map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) { resolve(); return; }
              const kill = setTimeout(() => {
                log.error({ pid: worker.process.pid }, 'an api process did not drain in time; killing it');
                worker.process.kill('SIGKILL');
              }, DRAIN_DEADLINE_MS);
              worker.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              worker.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

/** METRICS_PORT, when set, of a forking primary: the same sum over every process as PORT/metrics answers. */
export async function startClusterMetricsPort(processes: ApiProcesses, config: Config): Promise<MetricsServer | undefined> {
  if (config.metricsPort === undefined) return undefined;
  return startMetricsServer(
    { registry: { metrics: () => processes.scrape(), contentType: prometheusContentType }, token: config.metricsToken },
    { host: config.host, port: config.metricsPort },
  );
}

/** True in a process forked by forkApiProcesses. */
export const isForkedApiProcess = (): boolean => cluster.isWorker;
