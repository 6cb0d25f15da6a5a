/** Request schemas of the api (zod): validation in the routes, and the OpenAPI document's request shapes. */
import { z } from 'zod';
import { LIST_LIMITS, MOBILE_PHONE, ORDER_NO, PHONE_DIGITS, REQUEST_ID } from '../../core/formats.ts';
import { ORDER_STATUSES } from '../../core/order-lifecycle.ts';

/** Text without control characters (NUL …): PostgreSQL refuses NUL in text, and none belongs in a name. */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point of this pattern
const text = () => z.string().regex(/^[^\u0000-\u001F\u007F]*$/, 'no control characters');
const phone = z.string().regex(MOBILE_PHONE, 'an 11-digit mobile number starting with 1');
const password = text().min(8, 'at least 8 characters').max(128);
export const id = z.coerce.number().int().positive().max(2 ** 31 - 1);
const requestId = z.string().regex(REQUEST_ID, '8-64 characters of A-Z a-z 0-9 _ -');
const cents = z.number().int().min(0).max(1_000_000_000);
export const TIME_YEARS = { min: 2000, max: 2100 } as const;
/**
 * ISO-8601 with a four-digit year and an offset, within TIME_YEARS: a year like 0099 is a typo, and
 * PostgreSQL's and JavaScript's two-digit-year rules would store it as another century.
 */
const isoTime = z.iso
  .datetime({ offset: true })
  .refine((s) => {
    const year = new Date(s).getUTCFullYear();
    return year >= TIME_YEARS.min && year <= TIME_YEARS.max;
  }, `a time between the years ${TIME_YEARS.min} and ${TIME_YEARS.max}`)
  .transform((s) => new Date(s));

const code = z.string().regex(/^\d{6}$/, 'the 6 digits sent to the phone');
/** A solved proof-of-work puzzle (SECKILL_POW): the ALTCHA payload, base64. */
const pow = z.string().max(2048).optional();
export const RegisterBody = z.object({ phone, password, nickname: text().trim().min(1).max(32).optional(), code: code.optional(), pow });
export const SmsCodeBody = z.object({ phone, purpose: z.enum(['register', 'reset']) });
export const ResetPasswordBody = z.object({ phone, code, password });
export const OutboxQuery = z.object({ phone });
export const LoginBody = z.object({ phone: text().max(32), password: text().max(128) });
export const ChangePasswordBody = z.object({ oldPassword: text().max(128), newPassword: password });
export const RefreshBody = z.object({ refreshToken: text().min(1).max(128) });
export const SeckillOrderBody = z.object({
  seckillGoodId: z.number().int().positive().max(2 ** 31 - 1),
  uuid: requestId,
  /** From GET /api/seckill/goods/:id/path; required when the hidden buy path is on. */
  path: z.string().max(128).optional(),
  pow,
});
const goodName = text().trim().min(1).max(100);
const goodTitle = text().trim().max(200);
// An http(s) address or a path on this site: anything else (javascript:, data:, //host) could run or leak in the page.
const imageUrl = text()
  .trim()
  .max(500)
  .regex(/^(https?:\/\/[^\s]+|\/(?!\/)[^\s]*)?$/i, 'an http(s) URL or a path starting with /');
export const NewGoodBody = z.object({
  name: goodName,
  title: goodTitle.default(''),
  imageUrl: imageUrl.default(''),
  price: cents,
  seckillPrice: cents,
  stock: z.number().int().min(0).max(1_000_000),
  startAt: isoTime,
  endAt: isoTime,
});
/** Any of the create fields but the stock (a restock adds units); at least one. */
export const EditGoodBody = z
  .strictObject({ name: goodName, title: goodTitle, imageUrl, price: cents, seckillPrice: cents, startAt: isoTime, endAt: isoTime })
  .partial()
  .refine((edit) => Object.keys(edit).length > 0, { error: 'at least one field to change' });
export const RestockBody = z.object({ units: z.number().int().min(1).max(1_000_000) });
export const IdParams = z.object({ id });
export const UuidParams = z.object({ uuid: requestId });
const orderNo = z.string().regex(ORDER_NO);
export const OrderNoParams = z.object({ orderNo });
export const ResultQuery = z.object({ seckillGoodId: id.optional().meta({ description: 'narrows the lookup of a queued request' }) });
const { alertsTaken, deadBatchesReplayed, page, cursorLength } = LIST_LIMITS;
export const TakeAlertsQuery = z.object({ max: z.coerce.number().int().min(1).max(alertsTaken.max).default(alertsTaken.default) });
export const ReplayQuery = z.object({
  max: z.coerce.number().int().min(1).max(deadBatchesReplayed.max).default(deadBatchesReplayed.default).meta({ description: 'batch messages at most' }),
});

const cursorText = z.string().max(cursorLength).meta({ description: 'the nextCursor of the previous page' });
const pageLimit = z.coerce.number().int().min(1).max(page.max).default(page.default);
/** An empty query field (a search form's blank box) means "no filter". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
export const AdminOrdersQuery = z.object({
  phone: optional(z.string().regex(PHONE_DIGITS, 'up to 11 digits').meta({ description: "the buyer's phone" })),
  orderNo: optional(orderNo),
  seckillGoodId: optional(id),
  status: optional(z.enum(ORDER_STATUSES as readonly [(typeof ORDER_STATUSES)[number], ...(typeof ORDER_STATUSES)[number][]])),
  cursor: optional(cursorText),
  limit: pageLimit,
});
export const AuditQuery = z.object({ cursor: cursorText.optional(), limit: pageLimit });
