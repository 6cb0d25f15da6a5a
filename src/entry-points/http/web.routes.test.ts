import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendError } from './http-errors.ts';
import { registerWebRoutes, type WebRoutesOptions } from './web.routes.ts';

async function server(opts: Partial<WebRoutesOptions> & { webDir: string }): Promise<FastifyInstance> {
  const app = Fastify();
  app.setNotFoundHandler((req, reply) => sendError(reply, 'NOT_FOUND', `No route ${req.method} ${req.url}.`));
  app.get('/api/health', async () => ({ status: 'ok' }));
  await registerWebRoutes(app, { mode: 'embedded', wsPort: 8085, ...opts });
  await app.ready();
  return app;
}

describe('web routes', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-web-'));
    await fs.mkdir(path.join(dir, 'assets'));
    await fs.mkdir(path.join(dir, 'images'));
    await fs.writeFile(path.join(dir, 'index.html'), '<!doctype html><title>shop</title>');
    await fs.writeFile(path.join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    await fs.writeFile(path.join(dir, 'images', 'watch.svg'), '<svg/>');
    await fs.writeFile(path.join(dir + '-secret.txt'), 'no');
    app = await server({ webDir: dir });
  });

  afterAll(async () => {
    await app.close();
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rm(dir + '-secret.txt', { force: true });
  });

  it('serves files with their type; hashed assets are cached for good, the page is revalidated', async () => {
    const js = await app.inject({ url: '/assets/index-abc.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    const svg = await app.inject({ url: '/images/watch.svg' });
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    const page = await app.inject({ url: '/' });
    expect(page.body).toContain('<title>shop</title>');
    expect(page.headers['cache-control']).toBe('no-cache');
  });

  it('answers client-side routes with the page, and missing files and unknown /api paths with the JSON 404', async () => {
    for (const url of ['/goods/12', '/orders/ABC?x=1', '/admin/goods/3']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<title>shop</title>');
    }
    for (const url of ['/api/nope', '/api', '/images/nope.svg']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
    expect((await app.inject({ url: '/api/health' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'POST', url: '/goods/1' })).statusCode).toBe(404);
  });

  it('never serves a file outside the build', async () => {
    const name = path.basename(dir) + '-secret.txt';
    for (const url of [`/../${name}`, `/%2e%2e/${name}`, `/assets/..%2f..%2f${name}`]) {
      const res = await app.inject({ url });
      expect(res.body).not.toBe('no');
    }
  });

  it('tells the page where the result socket is: WS_PUBLIC_URL, else the page host at the push port', async () => {
    const res = await app.inject({ url: '/api/config', headers: { host: 'shop.example.com:8080' } });
    expect(res.json()).toEqual({ wsUrl: 'ws://shop.example.com:8085', mode: 'embedded', hiddenPath: false, phoneVerification: false, smsOutbox: false, pow: [] });
    const v6 = await app.inject({ url: '/api/config', headers: { host: '[::1]:8080' } });
    expect(v6.json().wsUrl).toBe('ws://[::1]:8085');

    const behindProxy = await server({ webDir: dir, wsPublicUrl: 'wss://shop.example.com/results/', mode: 'services', hiddenPath: true, phoneVerification: true, smsOutbox: true, pow: ['buy'] });
    expect((await behindProxy.inject({ url: '/api/config' })).json()).toEqual({ wsUrl: 'wss://shop.example.com/results', mode: 'services', hiddenPath: true, phoneVerification: true, smsOutbox: true, pow: ['buy'] });
    await behindProxy.close();
    const unknown = await server({ webDir: dir, wsPort: null });
    expect((await unknown.inject({ url: '/api/config' })).json().wsUrl).toBeNull();
    await unknown.close();
  });

  it('explains itself when the front end is not built', async () => {
    const empty = await server({ webDir: path.join(dir, 'missing') });
    const res = await empty.inject({ url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    await empty.close();
  });

  it('pages, assets and /api/config carry the browser hardening headers; /api/config is never cached', async () => {
    for (const url of ['/', '/orders', '/assets/index-abc.js', '/api/config']) {
      const r = await app.inject({ url });
      expect(r.statusCode).toBe(200);
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain('connect-src');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    }
    expect((await app.inject({ url: '/api/config' })).headers['cache-control']).toBe('no-store');
    // The api's own answers stay lean.
    expect((await app.inject({ url: '/api/health' })).headers['content-security-policy']).toBeUndefined();
  });

  it('the policy lets the page connect to itself and its result socket only, and show images from itself, data: and the listed origins', async () => {
    const directive = (csp: string, name: string) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `));
    const csp = String((await app.inject({ url: '/', headers: { host: 'shop.example.com:8080' } })).headers['content-security-policy']);
    expect(directive(csp, 'connect-src')).toBe("connect-src 'self' ws://shop.example.com:8085");
    expect(directive(csp, 'img-src')).toBe("img-src 'self' data:");

    const cdn = await server({ webDir: dir, wsPublicUrl: 'wss://push.example.com/results/', imageOrigins: ['https://cdn.example.com'] });
    const cdnCsp = String((await cdn.inject({ url: '/assets/index-abc.js' })).headers['content-security-policy']);
    expect(directive(cdnCsp, 'connect-src')).toBe("connect-src 'self' wss://push.example.com");
    expect(directive(cdnCsp, 'img-src')).toBe("img-src 'self' data: https://cdn.example.com");
    await cdn.close();

    // No push port known, or a Host that could write into the policy: the page's own origin only.
    const none = await server({ webDir: dir, wsPort: null });
    expect(directive(String((await none.inject({ url: '/' })).headers['content-security-policy']), 'connect-src')).toBe("connect-src 'self'");
    await none.close();
    const forged = String((await app.inject({ url: '/', headers: { host: "x.example.com;script-src 'unsafe-inline'" } })).headers['content-security-policy']);
    expect(directive(forged, 'connect-src')).toBe("connect-src 'self'");
    expect(directive(forged, 'script-src')).toBe("script-src 'self'");
  });
});
