/** The HTTP SMS sender against a gateway on loopback (the gateway is not ours: this stands in for it). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpSmsSender } from './http-sms-sender.ts';

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

describe('HTTP SMS sender', () => {
  const seen: Seen[] = [];
  let answer: (res: http.ServerResponse) => void = (res) => res.writeHead(202).end('{"id":"m1"}');
  const hanging: http.ServerResponse[] = [];
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) });
        answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const settings = () => ({ url: `${base}/v1/messages`, authHeader: 'X-API-Key', authValue: 'key-123', timeoutMs: 2000 });

  it('posts {"to","text"} as JSON with the key in the configured header; a 2xx is sent', async () => {
    seen.length = 0;
    await createHttpSmsSender(settings()).send({ phone: '13900001111', text: 'hello' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe('/v1/messages');
    expect(seen[0]!.headers['x-api-key']).toBe('key-123');
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(seen[0]!.body).toEqual({ to: '13900001111', text: 'hello' });
  });

  it('a gateway answering 500 or 401 is UNAVAILABLE', async () => {
    for (const status of [500, 401]) {
      answer = (res) => res.writeHead(status).end();
      await expect(createHttpSmsSender(settings()).send({ phone: '13900001111', text: 'x' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    }
  });

  it('a gateway that never answers is UNAVAILABLE once the deadline passes', async () => {
    answer = (res) => void hanging.push(res);
    await expect(createHttpSmsSender({ ...settings(), timeoutMs: 200 }).send({ phone: '13900001111', text: 'x' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('a gateway nobody listens on is UNAVAILABLE', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(createHttpSmsSender({ ...settings(), url: `http://127.0.0.1:${port}/` }).send({ phone: '13900001111', text: 'x' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
