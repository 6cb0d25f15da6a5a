/**
 * The OpenAPI 3.1 document of the api, served at GET /api/openapi.json, generated whole from the zod schemas:
 * request bodies, path parameters and queries from the ones the routes validate with (schemas.ts), every
 * response body from the ones the presenters are typed by (responses.ts, one named component each), so none
 * can drift; a test checks that every /api route is documented.
 */
import { z } from 'zod';
import {
  AlertsJson, BuyPathJson, ClientConfigJson, DrainingJson, ErrorBody, HealthJson, OpenApiJson, OrderJson, OrderListJson, PowChallengeJson, ReadyJson,
  RESPONSE_SCHEMAS, AdminOrderPageJson, AuditPageJson, ReplayedJson, SaleStatsJson, SeckillGoodJson, SeckillGoodListJson, SeckillResultJson, SessionJson, SmsOutboxJson, UserJson,
} from './responses.ts';
import {
  AdminOrdersQuery, AuditQuery, ChangePasswordBody, EditGoodBody, IdParams, LoginBody, NewGoodBody, OrderNoParams, OutboxQuery, RefreshBody, RegisterBody,
  ReplayQuery, ResetPasswordBody, RestockBody, ResultQuery, SeckillOrderBody, SmsCodeBody, TakeAlertsQuery, UuidParams,
} from './schemas.ts';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; required?: string[]; description?: string };

const jsonSchema = (schema: z.ZodType): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

/** Every response shape, one component each, nested named shapes as references. */
function components() {
  const named = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(RESPONSE_SCHEMAS)) named.add(schema, { id });
  const { schemas } = z.toJSONSchema(named, { io: 'output', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(Object.entries(schemas).map(([name, { $schema: _, $id: __, ...rest }]) => [name, rest]));
}

const NAME_OF = new Map<z.ZodType, string>(Object.entries(RESPONSE_SCHEMAS).map(([name, schema]) => [schema, name]));
/** A reference to a response shape; one missing from RESPONSE_SCHEMAS fails the document's build. */
const ref = (schema: z.ZodType) => {
  const name = NAME_OF.get(schema);
  if (!name) throw new Error('a response shape missing from RESPONSE_SCHEMAS');
  return { $ref: `#/components/schemas/${name}` };
};
const json = (schema: z.ZodType, description = 'OK') => ({ description, content: { 'application/json': { schema: ref(schema) } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), json(ErrorBody, ERROR_TEXT[s] ?? 'Error')]));
const ERROR_TEXT: Record<number, string> = {
  400: 'INVALID_INPUT (details.fields names the fields)',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN (not an admin; on buying: a missing, expired or foreign buy path; with SECKILL_POW: a missing, wrong, expired or used puzzle solution)',
  404: 'NOT_FOUND',
  409: 'SOLD_OUT, DUPLICATE_ORDER, NOT_STARTED, ENDED, ORDER_CLOSED, PHONE_TAKEN, PAUSED or ALREADY_STARTED',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED (Retry-After header)',
  503: 'UNAVAILABLE: a dependency is down; nothing was taken from stock',
};
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: jsonSchema(schema) } } });
const auth = [{ bearer: [] }];
/** The parameters of a path or query schema, each field's description on the parameter. */
const params = (where: 'path' | 'query', schema: z.ZodObject) => {
  const { properties = {}, required = [] } = jsonSchema(schema);
  return Object.entries(properties).map(([name, { description, ...field }]) => ({ name, in: where, required: required.includes(name), schema: field, ...(description ? { description } : {}) }));
};
const goodId = params('path', IdParams);
const orderNo = params('path', OrderNoParams);

/**
 * Answers every operation of a kind can give: an authenticated one 401 and 503 (the stores it reads may be
 * down), one with a body 400 and 413.
 */
type Operation = { security?: unknown; requestBody?: unknown; responses: Record<string, unknown>; tags?: string[] };

/** The groups of operations on /docs, each path in the first whose prefix it starts with. */
const TAGS: readonly { name: string; description: string; prefixes: readonly string[] }[] = [
  { name: 'Buying', description: 'The hot path: a buy press, its result, the hidden buy path', prefixes: ['/api/seckill/orders', '/api/seckill/results', '/api/seckill/goods/{id}/path'] },
  { name: 'Sales', description: 'The sales on show', prefixes: ['/api/seckill/goods'] },
  { name: 'Orders', description: "A buyer's orders: pay, cancel", prefixes: ['/api/orders'] },
  { name: 'Accounts', description: 'Register, log in, sessions, phone codes, proof-of-work', prefixes: ['/api/auth', '/api/me', '/api/pow', '/api/dev'] },
  { name: 'Operators', description: 'Admins: sales, customer service, finance, audit, alerts, dead orders', prefixes: ['/api/admin'] },
  { name: 'Service', description: 'Health, readiness, the page settings, this document', prefixes: ['/api/health', '/api/ready', '/api/config', '/api/openapi.json'] },
];

export const tagOf = (path: string): string => TAGS.find((t) => t.prefixes.some((p) => path.startsWith(p)))?.name ?? 'Service';

function withCommonAnswers<T extends object>(paths: T): T {
  for (const [path, ops] of Object.entries(paths) as [string, Record<string, Operation>][]) {
    for (const op of Object.values(ops)) {
      const extra = [...(op.security ? [401, 503] : []), ...(op.requestBody ? [400, 413] : [])];
      for (const status of extra) op.responses[String(status)] ??= errors(status)[String(status)];
      op.tags = [tagOf(path)];
    }
  }
  return paths;
}

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: { title: 'seckill', version: '1.2', description: 'Flash-sale api. The human-readable contract is docs/api.md; this document follows it.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token from register or login' } }, schemas: components() },
    tags: TAGS.map(({ name, description }) => ({ name, description })),
    paths: withCommonAnswers({
      '/api/health': {
        get: {
          summary: 'Health, mode and each dependency (db, cache, bus); 503 "degraded" names the ones down',
          responses: {
            200: json(HealthJson),
            503: json(HealthJson),
          },
        },
      },
      '/api/ready': {
        get: {
          summary: 'Readiness for load balancers: 200 while serving, 503 while draining',
          responses: { 200: json(ReadyJson), 503: json(DrainingJson) },
        },
      },
      '/api/config': {
        get: {
          summary: 'Where the result socket is, and whether buying needs a buy path (for the browser)',
          responses: { 200: json(ClientConfigJson) },
        },
      },
      '/api/openapi.json': { get: { summary: 'This document', responses: { 200: json(OpenApiJson) } } },
      '/api/auth/register': {
        post: {
          summary: 'Register a buyer (limited per client address and per phone); with phone verification on, `code` (from POST /api/auth/sms-code) is required and a wrong one is 400 on `code`',
          requestBody: body(RegisterBody),
          responses: { 201: json(SessionJson, 'Created'), ...errors(400, 403, 409, 413, 429, 503) },
        },
      },
      '/api/pow/challenge': {
        get: {
          summary: 'A fresh proof-of-work puzzle (ALTCHA: find n ≤ maxnumber with SHA-256(salt + n) = challenge), HMAC-signed, 5 minutes, accepted once; send the solution as `pow` (base64 JSON {algorithm, challenge, number, salt, signature}) where SECKILL_POW asks for it',
          responses: { 200: json(PowChallengeJson) },
        },
      },
      '/api/auth/sms-code': {
        post: {
          summary: 'Send a 6-digit code to the phone (5 minutes, one use); the same 202 whether or not the phone has an account; limited per phone and per client address',
          requestBody: body(SmsCodeBody),
          responses: { 202: { description: 'A message is on its way to the phone' }, ...errors(400, 413, 429, 503) },
        },
      },
      '/api/auth/reset': {
        post: {
          summary: 'Set a new password with a code sent for purpose "reset"; every earlier token stops working',
          requestBody: body(ResetPasswordBody),
          responses: { 204: { description: 'Password replaced' }, ...errors(400, 413, 429, 503) },
        },
      },
      '/api/dev/sms-outbox': {
        get: {
          summary: 'Development only (SECKILL_SMS_ADAPTER=outbox; absent otherwise): the last messages the outbox kept for a phone, newest first',
          parameters: params('query', OutboxQuery),
          responses: { 200: json(SmsOutboxJson), ...errors(400, 404, 503) },
        },
      },
      '/api/auth/login': {
        post: {
          summary: 'Log in (limited per client address and per phone; failed logins back off per phone and address)',
          requestBody: body(LoginBody),
          responses: { 200: json(SessionJson), ...errors(400, 401, 413, 429, 503) },
        },
      },
      '/api/auth/refresh': {
        post: {
          summary: 'Trade a refresh token (one use) for a new session and a new refresh token; a token used twice ends its family',
          requestBody: body(RefreshBody),
          responses: { 200: json(SessionJson), ...errors(400, 401, 413, 503) },
        },
      },
      '/api/auth/logout': { post: { summary: 'End every session of this user (all tokens issued before)', security: auth, responses: { 204: { description: 'Logged out' }, ...errors(401) } } },
      '/api/auth/password': {
        post: {
          summary: 'Change the password (the current one must be right); every earlier token stops working; answers a new session',
          security: auth,
          requestBody: body(ChangePasswordBody),
          responses: { 200: json(SessionJson), ...errors(400, 401, 413, 429) },
        },
      },
      '/api/seckill/goods/{id}/path': {
        get: {
          summary: 'A short-lived, single-use buy path for this buyer and sale (needed by the buy request when the hidden path is on); only while the sale is open; limited like presses',
          security: auth,
          parameters: goodId,
          responses: { 200: json(BuyPathJson), ...errors(400, 401, 404, 409, 429) },
        },
      },
      '/api/me': { get: { summary: 'The logged-in user', security: auth, responses: { 200: json(UserJson), ...errors(401) } } },
      '/api/seckill/goods': { get: { summary: 'Sales', responses: { 200: json(SeckillGoodListJson) } } },
      '/api/seckill/goods/{id}': { get: { summary: 'One sale', parameters: goodId, responses: { 200: json(SeckillGoodJson), ...errors(400, 404) } } },
      '/api/seckill/orders': {
        post: {
          summary: 'Press the button: reserve one unit and queue the order (the hot path)',
          security: auth,
          requestBody: body(SeckillOrderBody),
          responses: { 200: json(SeckillResultJson, 'QUEUED (or, for a repeated uuid, its outcome)'), ...errors(400, 401, 403, 404, 409, 413, 429, 503) },
        },
      },
      '/api/seckill/results/{uuid}': {
        get: {
          summary: 'What became of a request (owner only); the polling fallback of the WebSocket push',
          security: auth,
          parameters: [...params('path', UuidParams), ...params('query', ResultQuery)],
          responses: { 200: json(SeckillResultJson), ...errors(400, 401, 404) },
        },
      },
      '/api/orders': { get: { summary: 'My orders, newest first', security: auth, responses: { 200: json(OrderListJson), ...errors(401) } } },
      '/api/orders/{orderNo}': { get: { summary: 'One of my orders', security: auth, parameters: orderNo, responses: { 200: json(OrderJson), ...errors(401, 404) } } },
      '/api/orders/{orderNo}/pay': {
        post: { summary: 'Pay (charges once; a payment that loses to the timeout is refunded: 409 ORDER_CLOSED, details.refunded)', security: auth, parameters: orderNo, responses: { 200: json(OrderJson), ...errors(401, 404, 409) } },
      },
      '/api/orders/{orderNo}/cancel': { post: { summary: 'Cancel an unpaid order (its unit returns)', security: auth, parameters: orderNo, responses: { 200: json(OrderJson), ...errors(401, 404, 409) } } },
      '/api/admin/seckill/goods': { post: { summary: 'Create a sale (pre-stock loaded before the answer)', security: auth, requestBody: body(NewGoodBody), responses: { 201: json(SeckillGoodJson, 'Created'), ...errors(400, 401, 403) } } },
      '/api/admin/alerts/take': {
        post: {
          summary: 'Take (and remove) alerts: repairs the system could not make, for an operator',
          security: auth,
          parameters: params('query', TakeAlertsQuery),
          responses: { 200: json(AlertsJson), ...errors(400, 401, 403) },
        },
      },
      '/api/admin/dead-orders/replay': {
        post: {
          summary: 'Send dead-lettered order batches (failed on their own content) back to the pending queue; answers the orders replayed',
          security: auth,
          parameters: params('query', ReplayQuery),
          responses: { 200: json(ReplayedJson), ...errors(400, 401, 403, 503) },
        },
      },
      '/api/admin/seckill/goods/{id}/stats': { get: { summary: 'Live figures of a sale', security: auth, parameters: goodId, responses: { 200: json(SaleStatsJson), ...errors(401, 403, 404) } } },
      '/api/admin/seckill/goods/{id}': {
        patch: {
          summary: 'Edit a sale: name, title, image, prices and startAt only before its start (409 ALREADY_STARTED, or ENDED); endAt at any time (now or earlier ends it)',
          security: auth,
          parameters: goodId,
          requestBody: body(EditGoodBody),
          responses: { 200: json(SeckillGoodJson), ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/api/admin/seckill/goods/{id}/pause': {
        post: { summary: 'Pause a sale: every api process answers a buy 409 PAUSED within a second; accepted requests still become orders', security: auth, parameters: goodId, responses: { 200: json(SeckillGoodJson), ...errors(401, 403, 404) } },
      },
      '/api/admin/seckill/goods/{id}/resume': {
        post: { summary: 'Resume a paused sale on every api process', security: auth, parameters: goodId, responses: { 200: json(SeckillGoodJson), ...errors(401, 403, 404) } },
      },
      '/api/admin/seckill/goods/{id}/restock': {
        post: {
          summary: 'Put more units on sale (running or sold out): database stock and cache pre-stock both grow by exactly units; sold-out signs clear everywhere',
          security: auth,
          parameters: goodId,
          requestBody: body(RestockBody),
          responses: { 200: json(SaleStatsJson), ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/api/admin/orders': {
        get: {
          summary: 'Find orders (customer service): every filter given must match; newest first, a page at a time',
          security: auth,
          parameters: params('query', AdminOrdersQuery),
          responses: { 200: json(AdminOrderPageJson), ...errors(400, 401, 403) },
        },
      },
      '/api/admin/orders/{orderNo}/refund': {
        post: {
          summary: "Refund a paid order (PAID → REFUNDED): the provider gives the money back; the unit returns to stock while the sale runs",
          security: auth,
          parameters: orderNo,
          responses: { 200: json(OrderJson), ...errors(401, 403, 404, 409) },
        },
      },
      '/api/admin/seckill/goods/{id}/orders.csv': {
        get: {
          summary: "A sale's orders as CSV for finance (streamed; a header row, one row per order, newest first)",
          security: auth,
          parameters: goodId,
          responses: { 200: { description: 'OK', content: { 'text/csv': { schema: jsonSchema(z.string()) } } }, ...errors(400, 401, 403, 404) },
        },
      },
      '/api/admin/audit': {
        get: {
          summary: 'What admins did, newest first, a page at a time (append-only)',
          security: auth,
          parameters: params('query', AuditQuery),
          responses: { 200: json(AuditPageJson), ...errors(400, 401, 403) },
        },
      },
    }),
  };
}
