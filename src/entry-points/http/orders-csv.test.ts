import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, ordersCsv, yuanOf } from './orders-csv.ts';
import type { AdminOrder } from '../../core/model.ts';

describe('orders CSV', () => {
  it('plain cells stay as they are; numbers are written as numbers', () => {
    expect(csvLine(['O123', 42, 'Keyboard K8', null, undefined])).toBe('O123,42,Keyboard K8,,\r\n');
  });

  it('a cell with a quote, comma or line break is quoted, inner quotes doubled', () => {
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\r\nlf')).toBe('"cr\r\nlf"');
  });

  it('a text cell a spreadsheet would run as a formula gets a leading apostrophe (and quoting when it needs it)', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+86 phone')).toBe("'+86 phone");
    expect(csvCell('-5')).toBe("'-5");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tTAB')).toBe("'\tTAB");
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('yuan from cents without floating-point error', () => {
    expect([0, 1, 10, 99, 100, 990, 123_456, 1_000_000_000].map(yuanOf)).toEqual(['0.00', '0.01', '0.10', '0.99', '1.00', '9.90', '1234.56', '10000000.00']);
  });

  it('the file: BOM and header first, then one line per order in page order', async () => {
    const order = (n: number, name: string): AdminOrder => ({
      orderNo: `O${n}`,
      uuid: `u-${n}`,
      userId: 7,
      phone: '13900000007',
      seckillGoodId: 3,
      goodName: name,
      seckillPrice: 990,
      status: 'PAID',
      createdAt: new Date('2030-01-01T10:00:00.000Z'),
      payDeadline: new Date('2030-01-01T10:15:00.000Z'),
      paidAt: new Date('2030-01-01T10:01:00.000Z'),
    });
    async function* pages() {
      yield [order(1, 'plain')];
      yield [];
      yield [order(2, 'with, comma')];
    }
    let text = '';
    for await (const chunk of ordersCsv(pages())) text += chunk;
    expect(text).toBe(
      '\uFEFForder_no,created_at,buyer_id,buyer_phone,good_id,good_name,seckill_price_cents,seckill_price_yuan,status,paid_at,closed_or_refunded_at\r\n' +
        'O1,2030-01-01T10:00:00.000Z,7,13900000007,3,plain,990,9.90,PAID,2030-01-01T10:01:00.000Z,\r\n' +
        'O2,2030-01-01T10:00:00.000Z,7,13900000007,3,"with, comma",990,9.90,PAID,2030-01-01T10:01:00.000Z,\r\n',
    );
  });
});
