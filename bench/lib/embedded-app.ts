/**
 * The embedded app for the benchmark: what `npm start` runs (startApp with every role), from the sources, plus an
 * IPC door to its database. In embedded mode PGlite lives inside this process, so the bench can only
 * seed users and check invariants through it. Prints main.ts's banner when ready.
 */
import pino from 'pino';
import { loadConfig } from '../../src/app/config.ts';
import { startApp } from '../../src/app/compose.ts';

type Request = { id: number; type: 'query'; sql: string; params?: unknown[] } | { id: number; type: 'stop' };

const config = loadConfig();
const app = await startApp(config, pino({ level: config.logLevel }));
process.stdout.write(`\n  seckill is running (embedded bench)\n  api:      ${app.httpUrl}/api/seckill/goods\n  results:  ${app.wsUrl}/{uuid}?token=…\n\n`);

process.on('message', (raw) => {
  const req = raw as Request;
  if (req.type === 'stop') {
    void app.stop().finally(() => {
      process.send?.({ id: req.id, rows: [] });
      process.exit(0);
    });
    return;
  }
  app.adapters.db.query(req.sql, req.params ?? []).then(
    (rows) => process.send?.({ id: req.id, rows }),
    (err: unknown) => process.send?.({ id: req.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('SIGTERM', () => void app.stop().finally(() => process.exit(0)));
