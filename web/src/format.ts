/** Money, names, times and error messages as people read them. */
import type { ApiError, Good } from './api.ts';
import type { Lang, T } from './i18n.ts';

/** Cents (fen) → "¥1,299.00". */
export const yuan = (cents: number) =>
  '¥' + (cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** "English / 中文" names show the part of the reader's language. */
export function localName(name: string, lang: Lang): string {
  const parts = name.split(' / ');
  if (parts.length !== 2) return name;
  return (lang === 'zh' ? parts[1] : parts[0])!.trim();
}

/** 3725000 ms → "01:02:05"; a day or more → "2d 03:04:05". */
export function clock(ms: number, t: T): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return d > 0 ? `${t.days(d)} ${hms}` : hms;
}

export const dateTime = (iso: string, lang: Lang) =>
  new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });

export type SalePhase = 'upcoming' | 'live' | 'soldout' | 'ended';

export function phaseOf(good: Good, now: number): SalePhase {
  if (now >= Date.parse(good.endAt)) return 'ended';
  if (now < Date.parse(good.startAt)) return 'upcoming';
  return good.stock <= 0 ? 'soldout' : 'live';
}

export function soldPercent(good: Good): number | null {
  if (!good.initialStock) return null;
  return Math.min(100, Math.max(0, Math.round(((good.initialStock - good.stock) / good.initialStock) * 100)));
}

/** One human sentence for any api error. */
export function errorText(err: unknown, t: T, context?: 'pay' | 'login'): string {
  const e = err as Partial<ApiError>;
  const code = typeof e.code === 'string' ? e.code : 'INTERNAL';
  if (context === 'login' && code === 'UNAUTHORIZED') return t.wrongCredentials;
  if (context === 'pay' && code === 'NOT_FOUND' && /^No route/.test(e.message ?? '')) return t.payUnavailable;
  if (context === 'pay' && code === 'ORDER_CLOSED' && e.details?.refunded) return t.orderClosedPay;
  let text = t.errors[code] ?? t.errors.INTERNAL!;
  if (code === 'RATE_LIMITED' && e.retryAfterS) text += ' ' + t.retryAfter(e.retryAfterS);
  return text;
}

/** A datetime-local value (the reader's time zone) for a moment. */
export function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** "399.00" → 39900; empty stays missing and junk becomes null, so the api names the field. */
export function cents(value: string): number | null | undefined {
  if (value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? Math.round(n * 100) : null;
}
