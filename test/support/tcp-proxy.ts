/** A loopback TCP proxy that can be switched off (every connection cut, new ones refused) and on again: a service outage without stopping the service. */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  url(template: string): string;
  up(): void;
  down(): void;
  /** Connections refused so far while down: how often a client tried to reach the service in an outage. */
  refused(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, opts: { up: boolean }): Promise<TcpProxy> {
  let isUp = opts.up;
  let refused = 0;
  const pairs = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (!isUp) {
      refused += 1;
      return void client.destroy();
    }
    const upstream = net.connect(target.port, target.host);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
    pairs.add(client).add(upstream);
    client.on('close', () => pairs.delete(client));
    upstream.on('close', () => pairs.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (template) => {
      const u = new URL(template);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    up: () => void (isUp = true),
    down() {
      isUp = false;
      for (const s of pairs) s.destroy();
    },
    refused: () => refused,
    close: () =>
      new Promise((resolve) => {
        for (const s of pairs) s.destroy();
        server.close(() => resolve());
      }),
  };
}
