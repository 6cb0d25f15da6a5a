/**
 * `GET /metrics` on a port of its own (METRICS_PORT), so that processes without the api role (worker, ws)
 * can be scraped too, and so that an api process can keep its metrics off the public port. Nothing else is
 * served here; any other path answers the JSON 404.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { METRICS_REFUSED, metricsAccess } from './metrics.ts';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

const error = (code: string, message: string) => JSON.stringify({ error: { code, message } });

export async function startMetricsServer(
  // A process's registry, or anything that answers like one (the sum over the api processes of a cluster).
  deps: { registry: Pick<Registry, 'metrics' | 'contentType'>; token: string | undefined },
  opts: { host: string; port: number },
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(error('NOT_FOUND', `No route ${req.method} ${path}.`));
      return;
    }
    const access = metricsAccess(deps.token, req.headers.authorization, [req.socket.remoteAddress]);
    if (access !== 'ok') {
      res.writeHead(access === 'UNAUTHORIZED' ? 401 : 403, { 'content-type': 'application/json; charset=utf-8' }).end(error(access, METRICS_REFUSED[access]));
      return;
    }
    deps.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': deps.registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(error('INTERNAL', 'The metrics could not be collected.')),
    );
  });
  // A scrape is one short request: idle keep-alive sockets must not hold the process open at stop.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
