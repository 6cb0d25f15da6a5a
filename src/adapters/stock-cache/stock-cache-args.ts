/** Argument checks shared by both StockCache adapters, so both refuse the same bad input the same way. */

/** A load writes what every later request is judged by: refuse values that would corrupt the good. */
export function assertLoadArgs(seckillGoodId: number, stock: number, buyers: readonly number[]): void {
  assertId('seckillGoodId', seckillGoodId);
  if (!Number.isSafeInteger(stock) || stock < 0) {
    throw new RangeError(`stock must be a non-negative integer, got ${stock}`);
  }
  for (const buyer of buyers) assertId('buyer', buyer);
}

/** An admin's restock adds at least one unit. */
export function assertUnits(units: number): void {
  if (!Number.isSafeInteger(units) || units < 1) throw new RangeError(`units must be a positive integer, got ${units}`);
}

function assertId(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be an integer, got ${value}`);
}

/** Oldest first; the uuid breaks ties so both adapters list equal times in the same order. */
export function byAgeThenUuid(a: { at: number; uuid: string }, b: { at: number; uuid: string }): number {
  return a.at - b.at || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);
}
