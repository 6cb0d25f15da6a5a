/** Request schemas of the api (zod): validation in the routes, and the OpenAPI document's request shapes. */
import { z } from 'zod';

/** Text without control characters (NUL …): PostgreSQL refuses NUL in text, and none belongs in a name. */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point of this pattern
const text = () => z.string().regex(/^[^\u0000-\u001F\u007F]*$/, 'no control characters');
const phone = z.string().regex(/^1\d{10}$/, 'an 11-digit mobile number starting with 1');
const password = text().min(8, 'at least 8 characters').max(128);
export const id = z.coerce.number().int().positive().max(2 ** 31 - 1);
export const UUID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
const requestId = z.string().regex(UUID_PATTERN, '8-64 characters of A-Z a-z 0-9 _ -');
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

export const RegisterBody = z.object({ phone, password, nickname: text().trim().min(1).max(32).optional() });
export const LoginBody = z.object({ phone: text().max(32), password: text().max(128) });
export const ChangePasswordBody = z.object({ oldPassword: text().max(128), newPassword: password });
export const SeckillOrderBody = z.object({
  seckillGoodId: z.number().int().positive().max(2 ** 31 - 1),
  uuid: requestId,
  /** From GET /api/seckill/goods/:id/path; required when the hidden buy path is on. */
  path: z.string().max(128).optional(),
});
export const NewGoodBody = z.object({
  name: text().trim().min(1).max(100),
  title: text().trim().max(200).default(''),
  // An http(s) address or a path on this site: anything else (javascript:, data:, //host) could run or leak in the page.
  imageUrl: text()
    .trim()
    .max(500)
    .regex(/^(https?:\/\/[^\s]+|\/(?!\/)[^\s]*)?$/i, 'an http(s) URL or a path starting with /')
    .default(''),
  price: cents,
  seckillPrice: cents,
  stock: z.number().int().min(0).max(1_000_000),
  startAt: isoTime,
  endAt: isoTime,
});
export const IdParams = z.object({ id });
export const UuidParams = z.object({ uuid: requestId });
export const OrderNoParams = z.object({ orderNo: z.string().regex(/^[A-Za-z0-9]{1,40}$/) });
export const TakeAlertsQuery = z.object({ max: z.coerce.number().int().min(1).max(500).default(50) });
export const ReplayQuery = z.object({ max: z.coerce.number().int().min(1).max(10_000).default(100) });
