import { describe, expect, it } from 'vitest';
import { isSeckillError } from '../../core/errors.ts';
import { parseInput } from './http-errors.ts';
import { NewGoodBody } from './schemas.ts';

const sale = { name: 'n', price: 100, seckillPrice: 10, stock: 1, startAt: '2026-12-01T10:00:00Z', endAt: '2026-12-01T11:00:00+08:00' };

function refusedFields(body: unknown): unknown {
  try {
    parseInput(NewGoodBody, body);
  } catch (err) {
    if (isSeckillError(err) && err.code === 'INVALID_INPUT') return (err.details as { fields: string[] }).fields;
    throw err;
  }
  return 'accepted';
}

describe('admin times', () => {
  it('ISO-8601 with a four-digit year and an offset, from 2000 to 2100, are read as written', () => {
    expect(parseInput(NewGoodBody, sale).endAt.toISOString()).toBe('2026-12-01T03:00:00.000Z');
    expect(refusedFields({ ...sale, startAt: '2000-01-01T00:00:00Z', endAt: '2100-12-31T23:59:59.999Z' })).toBe('accepted');
  });

  it('years 0001-0099 and other out-of-range years are refused with INVALID_INPUT naming the field', () => {
    for (const startAt of ['0001-01-01T00:00:00Z', '0099-12-31T23:59:59Z', '1999-12-31T23:59:59Z', '2101-01-01T00:00:00Z']) {
      expect(refusedFields({ ...sale, startAt })).toEqual(['startAt']);
    }
    expect(refusedFields({ ...sale, endAt: '0020-06-01T00:00:00+08:00' })).toEqual(['endAt']);
  });

  it('times that are not strict ISO-8601 are refused: no offset, six-digit years, impossible days, two-digit years', () => {
    for (const endAt of ['2026-12-01T11:00:00', '+002026-12-01T11:00:00Z', '2026-02-30T00:00:00Z', '26-12-01T11:00:00Z', 'Tue, 01 Dec 2026 11:00:00 GMT']) {
      expect(refusedFields({ ...sale, endAt })).toEqual(['endAt']);
    }
  });
});
