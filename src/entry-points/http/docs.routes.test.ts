import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDocsRoutes } from './docs.routes.ts';
import { openApiDocument } from './openapi.ts';
import { registerWebRoutes } from './web.routes.ts';

describe('the api page at /docs', () => {
  let dir: string;
  let app: FastifyInstance;
  const document = openApiDocument();

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-docs-'));
    await fs.writeFile(path.join(dir, 'index.html'), '<!doctype html><title>shop</title>');
    app = Fastify();
    app.get('/api/openapi.json', async () => document);
    await registerDocsRoutes(app, document);
    // The shop's catch-all for client-side routes is registered too: /docs must not fall into it.
    await registerWebRoutes(app, { mode: 'embedded', wsPort: 8085, webDir: dir });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('serves Swagger UI, not the shop, and the page loads the served OpenAPI document', async () => {
    const page = await app.inject({ url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('swagger-ui-bundle.js');
    expect(page.body).not.toContain('<title>shop</title>');

    const init = await app.inject({ url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain("resolveUrl('./json')");

    const served = await app.inject({ url: '/docs/json' });
    expect(served.statusCode).toBe(200);
    expect(served.json()).toEqual((await app.inject({ url: '/api/openapi.json' })).json());
    expect(served.json().paths['/api/seckill/orders']).toBeDefined();

    const bundle = await app.inject({ url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
  });

  it('has a policy of its own that lets the page run; the shop keeps its strict one', async () => {
    const docs = String((await app.inject({ url: '/docs' })).headers['content-security-policy']);
    expect(docs).toContain("script-src 'self'");
    expect(docs).toContain("style-src 'self' 'unsafe-inline'");
    expect(docs).toContain("img-src 'self' data:");
    expect(docs).toContain("frame-ancestors 'none'");
    expect(docs).not.toContain('unsafe-eval');

    const shop = String((await app.inject({ url: '/goods/1' })).headers['content-security-policy']);
    expect(shop).toContain("script-src 'self'");
    expect(shop).toContain('connect-src');
    expect(shop).toContain('ws:');
    expect(shop).not.toBe(docs);
    // The api's JSON answers carry neither policy (the hot path does not pay for headers it does not need).
    expect((await app.inject({ url: '/api/openapi.json' })).headers['content-security-policy']).toBeUndefined();
  });
});
