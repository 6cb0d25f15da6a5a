/**
 * The bodies of the sold-out-sign fanout, shared by both buses. It carries two kinds of news to every api
 * process: "these goods have stock again" (a JSON array of good ids, as it always did) and "these sales
 * changed" (`{"sales":[…]}`, each sale whole, with its revision). Each subscriber takes its own kind and
 * passes over the other, so both ride one exchange and keep their order.
 */
import type { SeckillGood } from '../../core/model.ts';

/** The body announcing these sales' new state, to be sent as JSON. */
export function salesChangedBody(goods: readonly SeckillGood[]): { sales: unknown[] } {
  return { sales: goods.map((g) => ({ ...g, startAt: g.startAt.toISOString(), endAt: g.endAt.toISOString() })) };
}

/** The good ids of a stock-again body; undefined for the other kind. Throws on a body that is neither. */
export function decodeStockAgain(value: unknown): number[] | undefined {
  if (isSalesBody(value)) return undefined;
  const ids = Array.isArray(value) ? (value as unknown[]) : [value];
  if (!ids.every((id): id is number => typeof id === 'number' && Number.isSafeInteger(id))) {
    throw new Error(`not good ids: ${JSON.stringify(value).slice(0, 50)}`);
  }
  return ids;
}

/** The sales of a sales-changed body; undefined for the other kind. Throws on a malformed sale. */
export function decodeSalesChanged(value: unknown): SeckillGood[] | undefined {
  if (!isSalesBody(value)) return undefined;
  return value.sales.map(decodeSale);
}

function isSalesBody(value: unknown): value is { sales: unknown[] } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Array.isArray((value as { sales?: unknown }).sales);
}

function decodeSale(raw: unknown): SeckillGood {
  const s = raw as Record<string, unknown>;
  const ints = ['id', 'price', 'seckillPrice', 'initialStock', 'stock', 'revision'] as const;
  const startAt = new Date(String(s.startAt));
  const endAt = new Date(String(s.endAt));
  const ok =
    ints.every((k) => Number.isSafeInteger(s[k])) &&
    typeof s.name === 'string' && typeof s.title === 'string' && typeof s.imageUrl === 'string' &&
    typeof s.paused === 'boolean' && !Number.isNaN(startAt.getTime()) && !Number.isNaN(endAt.getTime());
  if (!ok) throw new Error(`not a sale: ${JSON.stringify(raw).slice(0, 80)}`);
  return {
    id: s.id as number, name: s.name as string, title: s.title as string, imageUrl: s.imageUrl as string,
    price: s.price as number, seckillPrice: s.seckillPrice as number, initialStock: s.initialStock as number,
    stock: s.stock as number, startAt, endAt, paused: s.paused as boolean, revision: s.revision as number,
  };
}
