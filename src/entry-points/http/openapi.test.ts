import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ORDER_NO, REQUEST_ID } from '../../core/formats.ts';
import { createMetrics } from '../metrics.ts';
import { openApiDocument } from './openapi.ts';
import type { RouteDeps } from './routes.ts';
import { buildHttpServer } from './server.ts';
import { registerWebRoutes } from './web.routes.ts';

describe('the OpenAPI document', () => {
  it('documents exactly the /api routes the server has, with their methods', async () => {
    // Registering routes touches no dependency, so empty ones do; an outbox is there, so its route is too.
    const app = await buildHttpServer({ phone: { outbox: {} }, admin: {} } as unknown as RouteDeps, {
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 1024,
      mode: 'embedded',
      metrics: createMetrics(),
      extend: (server) => registerWebRoutes(server, { mode: 'embedded', wsPublicUrl: undefined, wsPort: null }),
    });
    await app.ready();
    const served = new Set((app as unknown as { apiRoutes: string[] }).apiRoutes.filter((r) => !r.endsWith('/api/*')));
    const doc = openApiDocument();
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)),
    );
    expect([...documented].sort()).toEqual([...served].sort());
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.json()).toMatchObject({ openapi: '3.1.0', paths: expect.objectContaining({ '/api/seckill/orders': expect.any(Object) }) });
    await app.close();
  });

  it('groups every operation under one declared tag, so /docs shows them by what they are for', () => {
    const doc = openApiDocument();
    const declared = doc.tags.map((t) => t.name);
    const byTag = new Map<string, string[]>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops as Record<string, { tags?: string[] }>)) {
        expect(op.tags).toHaveLength(1);
        expect(declared).toContain(op.tags![0]);
        byTag.set(op.tags![0]!, [...(byTag.get(op.tags![0]!) ?? []), `${method.toUpperCase()} ${path}`]);
      }
    }
    expect(byTag.get('Buying')).toEqual(expect.arrayContaining(['POST /api/seckill/orders', 'GET /api/seckill/results/{uuid}', 'GET /api/seckill/goods/{id}/path']));
    expect(byTag.get('Sales')).toEqual(['GET /api/seckill/goods', 'GET /api/seckill/goods/{id}']);
    expect(byTag.get('Operators')?.every((op) => op.includes('/api/admin/'))).toBe(true);
    // Every declared group holds something.
    expect([...byTag.keys()].sort()).toEqual([...declared].sort());
  });

  it('request bodies carry the validation rules of the routes', () => {
    const schema = openApiDocument().paths['/api/seckill/orders'].post.requestBody.content['application/json'].schema as any;
    expect(schema.required).toEqual(['seckillGoodId', 'uuid']);
    expect(schema.properties.uuid.pattern).toBe('^[A-Za-z0-9_-]{8,64}$');
  });

  it('every JSON answer is a component generated from responses.ts, and the parameters carry the shared formats', () => {
    const doc = openApiDocument();
    const answers = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops as Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>).flatMap((op) => Object.values(op.responses)),
    );
    const schemas = answers.flatMap((r) => (r.content?.['application/json'] ? [r.content['application/json'].schema] : []));
    expect(schemas.length).toBeGreaterThan(60);
    for (const schema of schemas) expect(Object.keys(doc.components.schemas)).toContain((schema as { $ref: string }).$ref.replace('#/components/schemas/', ''));
    const parameter = (path: keyof typeof doc.paths, method: string, name: string) =>
      ((doc.paths[path] as Record<string, { parameters: { name: string; schema: { pattern?: string } }[] }>)[method]!.parameters.find((p) => p.name === name)!).schema;
    expect(parameter('/api/seckill/results/{uuid}', 'get', 'uuid').pattern).toBe(REQUEST_ID.source);
    expect(parameter('/api/orders/{orderNo}', 'get', 'orderNo').pattern).toBe(ORDER_NO.source);
    expect(parameter('/api/admin/alerts/take', 'post', 'max')).toMatchObject({ type: 'integer', minimum: 1, maximum: 500, default: 50 });
  });
});
