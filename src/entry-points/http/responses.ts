/**
 * The api's response shapes (docs/api.md), and the result push's frame, declared once. The presenters are typed by them, the OpenAPI
 * document's components (every response body it names) are generated from them, and the page (web/src/api.ts) imports their types.
 */
import { z } from 'zod';
import { ORDER_STATUSES } from '../../core/order-lifecycle.ts';

const time = z.iso.datetime({ offset: true });
const money = z.number().int().min(0).meta({ description: 'cents (fen)' });
const ORDER_STATUS = z.enum(ORDER_STATUSES as readonly [(typeof ORDER_STATUSES)[number], ...(typeof ORDER_STATUSES)[number][]]);
const FAIL_REASON = z.enum(['SOLD_OUT', 'DUPLICATE_ORDER', 'UUID_CONFLICT', 'NOT_FOUND', 'EXPIRED']);

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export const UserJson = z.object({ id: z.number().int(), phone: z.string(), nickname: z.string(), role: z.enum(['user', 'admin']) });

export const SessionJson = z.object({ user: UserJson, token: z.string(), expiresAt: time, refreshToken: z.string().optional(), refreshExpiresAt: time.optional() });

export const SeckillGoodJson = z.object({
  id: z.number().int(),
  name: z.string(),
  title: z.string(),
  imageUrl: z.string(),
  price: money,
  seckillPrice: money,
  stock: z.number().int().meta({ description: 'the cached pre-stock: what a buyer can still hope for' }),
  initialStock: z.number().int(),
  startAt: time,
  endAt: time,
  paused: z.boolean().meta({ description: 'paused by an admin: a buy answers 409 PAUSED' }),
});

export const SeckillResultJson = z.object({
  uuid: z.string(),
  status: z.enum(['QUEUED', 'SUCCESS', 'FAIL']),
  orderNo: z.string().optional(),
  reason: FAIL_REASON.optional(),
});

/** The one text frame the WebSocket push sends per result (a decided one: never QUEUED). */
export const PushFrameJson = z.object({
  uuid: z.string(),
  status: z.enum(['SUCCESS', 'FAIL']),
  orderNo: z.string().optional(),
  reason: FAIL_REASON.optional(),
  seckillGoodId: z.number().int(),
});

export const OrderJson = z.object({
  orderNo: z.string(),
  userId: z.number().int(),
  seckillGoodId: z.number().int(),
  goodName: z.string(),
  seckillPrice: money,
  status: ORDER_STATUS,
  createdAt: time,
  payDeadline: time,
  paidAt: time.optional(),
  closedAt: time.optional(),
});

export const AdminOrderJson = OrderJson.extend({ phone: z.string().meta({ description: "the buyer's phone" }) });

export const AdminOrderPageJson = z.object({
  items: z.array(AdminOrderJson),
  nextCursor: z.string().nullable().meta({ description: 'pass back as cursor for the next page; null on the last page' }),
});

export const AuditEntryJson = z.object({
  at: time,
  adminId: z.number().int(),
  action: z.string().meta({ description: 'sale.create, sale.edit, sale.pause, sale.resume, sale.restock, order.refund, dead-orders.replay' }),
  target: z.string().meta({ description: "what was acted on: a good's id, an order number, or dead-orders" }),
  details: z.record(z.string(), z.unknown()),
  address: z.string().meta({ description: 'the client address the api saw' }),
});

export const AuditPageJson = z.object({
  items: z.array(AuditEntryJson),
  nextCursor: z.string().nullable().meta({ description: 'pass back as cursor for the next page; null on the last page' }),
});

export const SaleStatsJson = z.object({
  id: z.number().int(),
  stock: z.number().int().meta({ description: 'database stock' }),
  preStock: z.number().int().nullable().meta({ description: "the cache's pre-stock (null: not loaded)" }),
  queued: z.number().int().meta({ description: 'reservations not yet decided' }),
  orders: z.object(Object.fromEntries(ORDER_STATUSES.map((s) => [s, z.number().int()])) as Record<z.infer<typeof ORDER_STATUS>, z.ZodNumber>),
  requests: z.number().int().meta({ description: 'seckill requests for this good seen by the answering api process' }),
});

export const BuyPathJson = z.object({ path: z.string(), expiresAt: time });

export const ClientConfigJson = z.object({
  wsUrl: z.string().nullable(),
  mode: z.string(),
  /** Each buy needs a buy path from GET /api/seckill/goods/:id/path first. */
  hiddenPath: z.boolean(),
  /** Register needs a code sent to the phone (POST /api/auth/sms-code first). */
  phoneVerification: z.boolean(),
  /** Codes are kept in the development outbox (GET /api/dev/sms-outbox): the page shows them. */
  smsOutbox: z.boolean(),
  /** Requests that need a solved proof-of-work puzzle (GET /api/pow/challenge). */
  pow: z.array(z.enum(['register', 'buy'])),
});

export const SentSmsJson = z.object({ phone: z.string(), text: z.string(), sentAt: time });
export const SmsOutboxJson = z.object({ items: z.array(SentSmsJson) });

export const SeckillGoodListJson = z.object({ items: z.array(SeckillGoodJson) });
export const OrderListJson = z.object({ items: z.array(OrderJson) });

/** 200 "ok", or 503 "degraded" naming the dependencies that did not answer in time. */
export const HealthJson = z.object({
  status: z.enum(['ok', 'degraded']),
  mode: z.enum(['embedded', 'services']),
  checks: z.record(z.string(), z.enum(['ok', 'down'])).meta({ description: 'each dependency (db, cache, bus)' }),
});
export const ReadyJson = z.object({ status: z.literal('ready') });
export const DrainingJson = z.object({ status: z.literal('draining') });

/** An ALTCHA puzzle (v1): find n ≤ maxnumber with SHA-256(salt + n) = challenge. */
export const PowChallengeJson = z.object({ algorithm: z.literal('SHA-256'), challenge: z.string(), maxnumber: z.number().int().optional(), salt: z.string(), signature: z.string() });

/** A repair the system could not make, as raised: the fields below and whatever else the raiser noted. */
export const AlertJson = z.looseObject({
  kind: z.string(),
  message: z.string(),
  seckillGoodId: z.number().int().optional(),
  uuid: z.string().optional(),
  orderNo: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  at: z.string(),
});
export const AlertsJson = z.object({ items: z.array(AlertJson) });

export const ReplayedJson = z.object({ replayed: z.number().int().meta({ description: 'the orders sent back to the pending queue' }) });

/** GET /api/openapi.json: an OpenAPI 3.1 document (its own shape is OpenAPI's). */
export const OpenApiJson = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) });

/** The components of the OpenAPI document, by name. */
export const RESPONSE_SCHEMAS = {
  Error: ErrorBody,
  User: UserJson,
  Session: SessionJson,
  SeckillGood: SeckillGoodJson,
  SeckillResult: SeckillResultJson,
  Order: OrderJson,
  SaleStats: SaleStatsJson,
  AdminOrder: AdminOrderJson,
  AdminOrderPage: AdminOrderPageJson,
  AuditEntry: AuditEntryJson,
  AuditPage: AuditPageJson,
  SeckillGoodList: SeckillGoodListJson,
  OrderList: OrderListJson,
  BuyPath: BuyPathJson,
  ClientConfig: ClientConfigJson,
  SmsOutbox: SmsOutboxJson,
  Health: HealthJson,
  Ready: ReadyJson,
  Draining: DrainingJson,
  PowChallenge: PowChallengeJson,
  Alerts: AlertsJson,
  Replayed: ReplayedJson,
  OpenApi: OpenApiJson,
} as const;

export type ErrorBody = z.infer<typeof ErrorBody>;
export type UserJson = z.infer<typeof UserJson>;
export type SessionJson = z.infer<typeof SessionJson>;
export type SeckillGoodJson = z.infer<typeof SeckillGoodJson>;
export type SeckillResultJson = z.infer<typeof SeckillResultJson>;
export type OrderJson = z.infer<typeof OrderJson>;
export type PushFrameJson = z.infer<typeof PushFrameJson>;
export type SaleStatsJson = z.infer<typeof SaleStatsJson>;
export type BuyPathJson = z.infer<typeof BuyPathJson>;
export type ClientConfigJson = z.infer<typeof ClientConfigJson>;
export type AdminOrderJson = z.infer<typeof AdminOrderJson>;
export type AdminOrderPageJson = z.infer<typeof AdminOrderPageJson>;
export type AuditEntryJson = z.infer<typeof AuditEntryJson>;
export type AuditPageJson = z.infer<typeof AuditPageJson>;
export type SmsOutboxJson = z.infer<typeof SmsOutboxJson>;
export type HealthJson = z.infer<typeof HealthJson>;
export type ReadyJson = z.infer<typeof ReadyJson>;
export type DrainingJson = z.infer<typeof DrainingJson>;
