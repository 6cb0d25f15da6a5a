/**
 * Process entry: read settings, make the logger, start the roles, print where the shop is,
 * and drain on SIGINT/SIGTERM (stop taking requests, finish messages in hand, close connections).
 * With SECKILL_API_PROCESSES > 1 the api role runs in forked processes on one port (api-processes.ts).
 */
import cluster from 'node:cluster';
import { isatty } from 'node:tty';
import pino from 'pino';
import { forkApiProcesses, isForkedApiProcess, startClusterMetricsPort } from './api-processes.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { startApp, type RunningApp } from './compose.ts';
import { formatLogLine, prettyStdout } from '../entry-points/log-format.ts';
import { droppedNotice, openLogSink } from '../entry-points/log-sink.ts';
import { createMetrics } from '../entry-points/metrics.ts';

/**
 * Log lines and the banner go to stdout through one sink that never blocks nor throws (log-sink.ts): a log
 * reader that is slow or gone must not stop requests or shutdown. Not pino's default destination, whose
 * exit handler retries a failed write forever.
 */
function makeLogger(config: Config) {
  const pretty = config.logFormat ? config.logFormat === 'pretty' : isatty(1);
  const sink = openLogSink(1, pretty ? { notice: (dropped) => formatLogLine(droppedNotice(dropped), isatty(1)) } : {});
  // Whatever a slow reader left queued gets one last try; the exit itself never waits for it.
  process.on('exit', () => sink.flushSync());
  const logger = pino(
    {
      level: config.logLevel,
      base: { pid: process.pid, roles: config.roles.join(',') },
      redact: { paths: ['password', '*.password', 'token', '*.token', 'req.headers.authorization', 'tokenSecret', 'metricsToken'], censor: '[redacted]' },
    },
    pretty ? prettyStdout(sink) : sink,
  );
  return { logger, sink };
}

function banner(app: RunningApp): string {
  const lines = [
    '',
    `  seckill is running (${app.config.mode} mode, roles: ${app.config.roles.join(', ')})`,
  ];
  if (app.httpUrl) {
    lines.push(`  shop:     ${app.httpUrl}/`);
    lines.push(`  api:      ${app.httpUrl}/api/seckill/goods`);
    lines.push(`  metrics:  ${app.httpUrl}/metrics`);
  }
  if (app.metricsUrl) lines.push(`  metrics:  ${app.metricsUrl}/metrics`);
  if (app.wsUrl) lines.push(`  results:  ${app.wsUrl}/{uuid}?token=…`);
  const admin = app.admin;
  if (admin?.source === 'generated now') lines.push(`  admin:    phone ${admin.phone}  password ${admin.password}  (generated now; shown once, kept in ${admin.keptIn})`);
  if (admin?.source === 'kept') lines.push(`  admin:    phone ${admin.phone}  password in ${admin.keptIn}`);
  if (admin?.source === 'environment') lines.push(`  admin:    phone ${admin.phone}  password from SECKILL_ADMIN_PASSWORD`);
  if (app.config.mode === 'embedded') lines.push(`  data:     ${app.config.dataDir}`);
  lines.push('');
  return lines.join('\n');
}

async function main() {
  // Once stderr's reader is gone, a write there (a start failure, a library's console.error) fails with
  // EPIPE: without a listener that 'error' would end the process.
  process.stderr.on('error', () => undefined);
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { logger, sink } = makeLogger(config);
  // Once per start, by the process that owns the ports (not again by each forked api process).
  if (!config.metricsToken && !isForkedApiProcess() && (config.roles.includes('api') || config.metricsPort !== undefined)) {
    logger.warn('METRICS_TOKEN is not set: /metrics answers clients on this machine only (loopback); set it to scrape from elsewhere');
  }
  // SECKILL_API_PROCESSES > 1: this process forks the api processes and runs only the other roles itself.
  const forking = config.roles.includes('api') && config.apiProcesses > 1 && !isForkedApiProcess();
  const ownRoles = forking ? config.roles.filter((r) => r !== 'api') : config.roles;
  // A forking primary opens METRICS_PORT itself, below, for the sum over every api process.
  const app = ownRoles.length > 0 ? await startApp({ ...config, roles: ownRoles, ...(forking ? { metricsPort: undefined } : {}) }, logger) : undefined;
  // Forked after this process's own roles are up (migrations applied once, not raced by N processes).
  const apiProcesses = forking ? forkApiProcesses(config.apiProcesses, logger, (app?.metrics ?? createMetrics({ defaults: true })).registry) : undefined;
  const clusterMetricsPort = apiProcesses ? await startClusterMetricsPort(apiProcesses, config) : undefined;
  if (app && clusterMetricsPort) app.metricsUrl = `http://${config.host}:${clusterMetricsPort.port}`;
  if (!app && clusterMetricsPort) logger.info({ url: `http://${config.host}:${clusterMetricsPort.port}/metrics` }, 'metrics of every api process');
  if (app && (!isForkedApiProcess() || cluster.worker?.id === 1)) sink.write(banner(app) + '\n');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    // The api processes drain first (up to 20 s each, at once), then this process's own roles.
    const limitMs = apiProcesses ? 40_000 : 15_000;
    const force = setTimeout(() => {
      logger.error({ limitMs }, 'drain took too long; exiting');
      process.exit(1);
    }, limitMs);
    force.unref();
    (async () => {
      await apiProcesses?.stop();
      await app?.stop();
      await clusterMetricsPort?.close();
    })().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`seckill failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
