/**
 * Process entry: read settings, make the logger, start the roles, print where the shop is,
 * and drain on SIGINT/SIGTERM (stop taking requests, finish messages in hand, close connections).
 */
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { startApp, type RunningApp } from './compose.ts';
import { prettyStdout } from './entry-points/log-format.ts';

function makeLogger(config: Config) {
  const pretty = config.logFormat ? config.logFormat === 'pretty' : Boolean(process.stdout.isTTY);
  return pino(
    {
      level: config.logLevel,
      base: { pid: process.pid, roles: config.roles.join(',') },
      redact: { paths: ['password', '*.password', 'token', '*.token', 'req.headers.authorization', 'tokenSecret', 'metricsToken'], censor: '[redacted]' },
    },
    pretty ? prettyStdout() : undefined,
  );
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
  const logger = makeLogger(config);
  const app = await startApp(config, logger);
  process.stdout.write(banner(app) + '\n');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    const force = setTimeout(() => {
      logger.error('drain took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    app.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`seckill failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
