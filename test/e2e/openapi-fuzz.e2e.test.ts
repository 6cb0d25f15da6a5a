/**
 * Property-based fuzzing of every operation in the served OpenAPI document (embedded mode): generated valid
 * and invalid path parameters, queries, bodies, content types and tokens. Every operation must be sent at
 * least once; every answer must carry a status the document lists for the operation (or, for a path that no
 * longer names a route or cannot be decoded, the documented 404 / 400); errors must have the documented shape
 * and code, and every successful JSON body must validate against the operation's response schema in the
 * document; nothing may answer 500; a refused request must leave every table of the database (found from its
 * catalog) and the cached stock as they were; and the server must be healthy afterwards. Prints the number of
 * cases and the statuses seen.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_OF } from '../../src/entry-points/http/http-errors.ts';
import { registerOverHttp } from '../support/buyers.ts';
import { apiClient, bootTestApp, type ApiClient, type TestApp, TEST_ADMIN } from '../support/app.ts';
import { adminSales, waitFor } from '../support/sales.ts';

const CASES = Number(process.env.FUZZ_CASES ?? 1000);
type Schema = Record<string, any>;
type Operation = { method: string; path: string; op: any };

let app: TestApp;
let api: ApiClient;
let admin: { id: number; token: string };
let buyer: { id: number; token: string };
let goodIds: number[] = [];
let tables: string[] = [];
let orderNos: string[] = [];
const uuids: string[] = [];

const nearNow = fc.integer({ min: -2 * 3_600_000, max: 48 * 3_600_000 }).map((ms) => new Date(Date.now() + ms).toISOString());
const junk = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));

/** Values the schema accepts (mostly): enough for the route's own checks to be reached. */
function valid(schema: Schema, name = ''): fc.Arbitrary<unknown> {
  if (name === 'seckillGoodId') return fc.oneof(fc.constantFrom(...goodIds), fc.integer({ min: 1, max: 2 ** 31 - 1 }));
  if (schema.format === 'date-time') return nearNow;
  if (schema.type === 'object') {
    const required = new Set<string>(schema.required ?? []);
    const entries = Object.entries<Schema>(schema.properties ?? {});
    return fc.record(Object.fromEntries(entries.map(([k, s]) => [k, valid(s, k)])), { requiredKeys: entries.map(([k]) => k).filter((k) => required.has(k)) });
  }
  if (schema.type === 'integer') return fc.integer({ min: schema.minimum ?? (schema.exclusiveMinimum ?? -1) + 1, max: Math.min(schema.maximum ?? 1_000_000, 1_000_000) });
  if (schema.type === 'string') {
    const patterns = [schema.pattern, ...(schema.allOf ?? []).map((s: Schema) => s.pattern)].filter(Boolean).map((p: string) => new RegExp(p));
    const fits = (s: string) => s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? 1000) && patterns.every((p) => p.test(s));
    const free = /^\^\[\^/.test(patterns.at(-1)?.source ?? '^[^');
    const text = fc.string({ unit: 'grapheme-composite', minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
    if (free) return text.filter(fits);
    try {
      return fc.stringMatching(patterns.at(-1)!).filter(fits);
    } catch {
      // A pattern fast-check cannot generate from (lookahead): a few fitting values and free text.
      return fc.oneof(fc.constantFrom('', 'https://example.com/a.png', '/img/a.png'), fc.webUrl(), text).filter(fits);
    }
  }
  return junk;
}

/** Bodies a client could send wrong: missing fields, wrong types, control characters, extra fields. */
function invalid(schema: Schema): fc.Arbitrary<unknown> {
  const fields = Object.keys(schema.properties ?? {});
  return fc.oneof(
    junk,
    fc.record(Object.fromEntries(fields.map((k) => [k, junk])), { requiredKeys: [] }),
    fc.tuple(valid(schema), fc.constantFrom(...fields), fc.oneof(junk, fc.constantFrom('\u0000', 'a\u0007b', ' ', ''.padEnd(300, 'x')))).map(([v, k, bad]) => ({ ...(v as object), [k]: bad })),
  );
}

interface Case {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function caseFor({ method, path, op }: Operation): fc.Arbitrary<Case> {
  const params: any[] = op.parameters ?? [];
  const pathParam = (name: string) =>
    fc.oneof(
      name === 'id' ? fc.constantFrom(...goodIds.map(String)) : name === 'orderNo' ? fc.constantFrom(...(orderNos.length ? orderNos : ['X1'])) : fc.constantFrom(...(uuids.length ? uuids : ['abcdefgh'])),
      fc.integer({ min: -5, max: 2 ** 33 }).map(String),
      fc.string({ unit: 'binary', maxLength: 30 }).map(encodeURIComponent),
      fc.constantFrom('%', '%zz', '..', '0x10', '1e3', '%201', '%00', 'a/b', '9'.repeat(120)),
    );
  const pathValues = fc.record(Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, pathParam(m[1]!)])));
  const queries = params.filter((p) => p.in === 'query');
  const query = fc.record(Object.fromEntries(queries.map((q) => [q.name, fc.oneof(fc.integer({ min: -10, max: 20_000 }).map(String), fc.string({ maxLength: 10 }).map(encodeURIComponent))])), { requiredKeys: [] });
  // Mostly real sessions, so the routes' own checks are reached; every kind of bad token too.
  const token = fc.oneof(
    { weight: 6, arbitrary: fc.constant(path.startsWith('/api/admin') ? 'admin' : 'buyer') },
    { weight: 2, arbitrary: fc.constant(path.startsWith('/api/admin') ? 'buyer' : 'admin') },
    { weight: 3, arbitrary: fc.constantFrom('none', 'garbage', 'tampered', 'basic', 'expired') },
  );
  const bodySchema = op.requestBody?.content?.['application/json']?.schema;
  const body: fc.Arbitrary<{ text?: string; type?: string }> = bodySchema
    ? fc.oneof(
        { weight: 3, arbitrary: valid(bodySchema).map((v) => ({ text: JSON.stringify(v), type: 'application/json' })) },
        { weight: 2, arbitrary: invalid(bodySchema).map((v) => ({ text: JSON.stringify(v) ?? 'null', type: 'application/json' })) },
        { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'binary', maxLength: 50 }), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'multipart/form-data')).map(([text, type]) => ({ text, type })) },
        { weight: 1, arbitrary: fc.constant({}) },
      )
    : fc.constant({});
  return fc.tuple(pathValues, query, token, body).map(([values, q, who, b]) => {
    const url = path.replace(/\{(\w+)\}/g, (_, k: string) => (values as Record<string, string>)[k]!) + (Object.keys(q).length ? '?' + Object.entries(q).map(([k, v]) => `${k}=${String(v)}`).join('&') : '');
    const headers: Record<string, string> = {};
    const auth = tokenFor(who);
    if (auth) headers.authorization = auth;
    if (b.type) headers['content-type'] = b.type;
    return { url, method: method.toUpperCase(), headers, ...(b.text !== undefined ? { body: b.text } : {}) };
  });
}

function tokenFor(who: string): string | undefined {
  switch (who) {
    case 'buyer': return `Bearer ${buyer.token}`;
    case 'admin': return `Bearer ${admin.token}`;
    case 'garbage': return 'Bearer not.a-token';
    case 'tampered': return `Bearer ${buyer.token.slice(0, -2)}xx`;
    case 'basic': return 'Basic YWRtaW46YWRtaW4=';
    case 'expired': return `Bearer ${app.signer.sign({ userId: buyer.id, role: 'user' }, new Date(Date.now() - 3 * 24 * 3_600_000)).token}`;
    default: return undefined;
  }
}

/** Every table of the app's schema, from the database's catalog: a table added later is watched too. */
async function productTables(): Promise<string[]> {
  const rows = await app.adapters.db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

/** Each table's row count and a digest of its rows (in one statement), and every sale's cached pre-stock. */
async function snapshot(): Promise<Record<string, unknown>> {
  const digests = tables.map((t) => `SELECT '${t}' AS name, count(*)::int AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS digest FROM "${t}" x`).join(' UNION ALL ');
  const rows = await app.adapters.db.query<{ name: string; n: number; digest: string }>(digests);
  const goods = (await api('GET', '/api/seckill/goods')).body.items.map((g: any) => [g.id, g.stock]);
  return { ...Object.fromEntries(rows.map((r) => [r.name, `${r.n} rows, ${r.digest}`])), cachedStock: goods };
}

/** Validators of the document's response schemas, by operation and status, its components resolvable. */
function responseValidators(doc: any): (op: Operation, status: number) => ValidateFunction | undefined {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi.json', components: doc.components });
  const compiled = new Map<string, ValidateFunction | undefined>();
  return ({ method, path, op }, status) => {
    const key = `${method} ${path} ${status}`;
    if (!compiled.has(key)) {
      const schema = op.responses[status]?.content?.['application/json']?.schema;
      compiled.set(key, schema ? ajv.compile(rebase(schema)) : undefined);
    }
    return compiled.get(key);
  };
}

/** A schema's references into the document, made absolute so that they resolve outside it. */
const rebase = (schema: unknown): any => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/'));

/** Raw request (fetch would normalise or refuse some of the URLs). */
async function send(c: Case): Promise<{ status: number; text: string }> {
  const { request } = await import('node:http');
  const { hostname, port } = new URL(app.httpUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: c.method, path: c.url, headers: { ...c.headers, ...(c.body !== undefined ? { 'content-length': Buffer.byteLength(c.body) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    if (c.body !== undefined) req.write(c.body);
    req.end();
  });
}

/** Sessions again after a logout or password change the fuzzer made (signed with the account's new version). */
async function refreshSessions() {
  for (const who of [admin, buyer]) {
    const user = await app.adapters.users.findById(who.id);
    who.token = app.signer.sign({ userId: who.id, role: user!.role, version: user!.tokenVersion }, new Date()).token;
  }
}

describe('fuzzing every route of the OpenAPI document (embedded)', () => {
  beforeAll(async () => {
    // The product's default limits (so 429 shows where documented), a higher login limit so that logins get past it.
    app = await bootTestApp('embedded', { SECKILL_AUTH_RATE_LIMIT_PER_MIN: '600', SECKILL_RATE_LIMIT_PER_S: '5', SECKILL_IP_RATE_LIMIT_PER_S: '50' });
    api = apiClient(app.httpUrl);
    const a = (await api('POST', '/api/auth/login', { body: TEST_ADMIN })).body;
    admin = { id: a.user.id, token: a.token };
    const b = (await registerOverHttp(api, { phone: '13611112222', password: 'buyer-pass-1' })).body;
    buyer = { id: b.user.id, token: b.token };
    const { sale } = adminSales(api, () => admin.token, 'Fuzz good');
    goodIds = [await sale(3), await sale(0), await sale(50)];
    const uuid = 'fuzz-seed-0001';
    expect((await api('POST', '/api/seckill/orders', { token: buyer.token, body: { seckillGoodId: goodIds[2], uuid } })).status).toBe(200);
    uuids.push(uuid);
    const decided = await waitFor('the seed order', () => api('GET', `/api/seckill/results/${uuid}`, { token: buyer.token }), (r) => r.body.status !== 'QUEUED');
    orderNos = [decided.body.orderNo];
    tables = await productTables();
    // The catalog is read, not listed here; these only show that it found the product's tables.
    expect(tables).toEqual(expect.arrayContaining(['users', 'seckill_goods', 'orders', 'seckill_results', 'payments', 'admin_audit']));
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  it('sends every operation; answers only documented statuses in the documented shapes, never 500; refused requests change nothing', async () => {
    const doc = (await api('GET', '/api/openapi.json')).body;
    const validatorOf = responseValidators(doc);
    const operations: Operation[] = Object.entries<any>(doc.paths).flatMap(([path, ops]) => Object.entries<any>(ops).map(([method, op]) => ({ method, path, op })));
    const codes = new Set(Object.keys(STATUS_OF));
    const seen: Record<string, number> = {};
    const perRoute: Record<string, Set<number>> = {};
    let cases = 0;

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations).chain((o) => caseFor(o).map((c) => ({ o, c }))), async ({ o, c }) => {
        const before = await snapshot();
        const { status, text } = await send(c);
        cases++;
        seen[status] = (seen[status] ?? 0) + 1;
        (perRoute[`${o.method.toUpperCase()} ${o.path}`] ??= new Set()).add(status);

        const documented = new Set(Object.keys(o.op.responses).map(Number));
        // A path parameter that cannot be decoded is 400, one that no longer names a route (a '/', too long) is 404.
        const routeLevel = o.path.includes('{') ? [400, 404] : [];
        expect(status, `${c.method} ${c.url} → ${status} ${text.slice(0, 200)}`).not.toBe(500);
        expect([...documented, ...routeLevel], `${c.method} ${c.url} → ${status} ${text.slice(0, 200)}`).toContain(status);
        if (status >= 400) {
          const body = JSON.parse(text);
          expect(Object.keys(body)).toEqual(['error']);
          expect(codes.has(body.error.code), text).toBe(true);
          expect(STATUS_OF[body.error.code as keyof typeof STATUS_OF]).toBe(status);
          expect(typeof body.error.message).toBe('string');
          expect(text).not.toMatch(/\.ts:\d+|node_modules|at [\w.]+ \(/);
          expect(await snapshot(), `${c.method} ${c.url} → ${status} changed a table or the cached stock`).toEqual(before);
        } else if (o.op.responses[status]?.content?.['text/csv']) {
          // A CSV download: its header row first (after the byte-order mark), whatever the sale.
          expect(text.replace(/^\uFEFF/, '').split('\r\n')[0]).toMatch(/^order_no,/);
        } else if (o.op.responses[status]?.content?.['application/json']) {
          const validate = validatorOf(o, status)!;
          const valid = validate(JSON.parse(text));
          expect(valid, `${c.method.toUpperCase()} ${o.path} → ${status}: the body does not fit the documented schema: ${JSON.stringify(validate.errors)} ${text.slice(0, 300)}`).toBe(true);
        } else {
          expect(text, `${c.method} ${c.url} → ${status} documents no body`).toBe('');
        }
        if (status < 300 && (o.path === '/api/auth/logout' || o.path === '/api/auth/password')) await refreshSessions();
        if (status === 200 && o.path === '/api/seckill/orders') {
          await waitFor('the order to be decided', () => api('GET', '/api/seckill/goods'), () => true);
          for (const id of goodIds) await waitFor('nothing queued', () => api('GET', `/api/admin/seckill/goods/${id}/stats`, { token: admin.token }), (r) => r.status !== 200 || r.body.queued === 0);
        }
      }),
      { numRuns: CASES },
    );

    const missed = operations.map((o) => `${o.method.toUpperCase()} ${o.path}`).filter((name) => !perRoute[name]);
    expect(missed, `operations never exercised: ${missed.join(', ')}`).toEqual([]);
    expect((await api('GET', '/api/health')).status).toBe(200);
    expect((await api('GET', '/api/ready')).status).toBe(200);
    console.log(`fuzz: ${cases} cases over ${operations.length} operations; statuses seen: ${JSON.stringify(seen)}`);
    console.log(`fuzz: per operation: ${JSON.stringify(Object.fromEntries(Object.entries(perRoute).map(([k, v]) => [k, [...v].sort()])))}`);
  }, 300_000);
});
