/**
 * The finance export of one sale's orders as CSV (RFC 4180: comma-separated, CRLF line ends, a cell quoted when
 * it holds a quote, comma or line break, quotes doubled). A cell a spreadsheet would run as a formula (starting
 * with = + - @, or a tab or carriage return that some read past) gets a leading apostrophe, so a good named
 * "=HYPERLINK(…)" is shown as text, never evaluated on the accountant's machine.
 */
import type { AdminOrder } from '../../core/model.ts';

export const CSV_HEADER = [
  'order_no',
  'created_at',
  'buyer_id',
  'buyer_phone',
  'good_id',
  'good_name',
  'seckill_price_cents',
  'seckill_price_yuan',
  'status',
  'paid_at',
  'closed_or_refunded_at',
] as const;

export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvLine = (cells: readonly (string | number | null | undefined)[]) => cells.map(csvCell).join(',') + '\r\n';

/** 990 → "9.90": integer arithmetic, no floating-point rounding. */
export const yuanOf = (cents: number) => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

export const orderCsvLine = (o: AdminOrder) =>
  csvLine([
    o.orderNo,
    o.createdAt.toISOString(),
    o.userId,
    o.phone,
    o.seckillGoodId,
    o.goodName,
    o.seckillPrice,
    yuanOf(o.seckillPrice),
    o.status,
    o.paidAt?.toISOString(),
    o.closedAt?.toISOString(),
  ]);

/**
 * The file, a page of orders at a time: a byte-order mark (so spreadsheet programs read the UTF-8 names as
 * UTF-8), the header, then one line per order as each page arrives. Nothing but the page in hand is in memory.
 */
export async function* ordersCsv(pages: AsyncIterable<readonly AdminOrder[]>): AsyncGenerator<string> {
  yield '\uFEFF' + csvLine(CSV_HEADER);
  for await (const page of pages) {
    if (page.length > 0) yield page.map(orderCsvLine).join('');
  }
}
