/**
 * The HTTP server under the result push: ours rather than the one ws makes, so that the upgrade request keeps
 * the api port's deadlines and cap (connection-limits.ts). A connection that sends nothing, or headers that
 * never end, is answered 408 and closed; past the cap a new connection is dropped at once. Once upgraded, a
 * socket is the push server's heartbeat's and wait's to end. A plain HTTP request is answered 426.
 */
import http from 'node:http';
import type { Logger } from 'pino';
import { applyConnectionLimits, serverOptions, type ConnectionLimits } from '../connection-limits.ts';

export async function listenForUpgrades(opts: { host: string; port: number; limits: ConnectionLimits; logger: Logger }): Promise<http.Server> {
  const server = http.createServer(serverOptions(opts.limits), (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' }).end('Upgrade Required');
  });
  applyConnectionLimits(server, opts.limits);
  // A full port under attack drops thousands of connections a second: one line per 10 s says so.
  let droppedAt = 0;
  server.on('drop', () => {
    const now = Date.now();
    if (now - droppedAt < 10_000) return;
    droppedAt = now;
    opts.logger.warn({ maxConnections: opts.limits.maxConnections }, 'result push port full: new connections are dropped');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.logger.error({ err }, 'result push server error'));
  return server;
}

/** Stop listening and end what is left (connections that never upgraded). */
export function closeUpgradeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
