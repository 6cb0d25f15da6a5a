/**
 * The buy fast lane answers exactly as fastify's route does. Each case is sent twice by twin buyers: once to
 * POST /api/seckill/orders (the lane takes it) and once with a query string (the lane hands it to fastify,
 * whose route ignores the query), and the status, body and headers of both answers must be equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, loginAdmin, newUuid, type TestApp } from '../support/app.ts';
import { makeBuyers, type Buyer } from '../support/buyers.ts';
import { adminSales } from '../support/sales.ts';

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string | null>;
}

const HEADERS = ['content-type', 'x-content-type-options', 'cache-control', 'retry-after'];

describe('the buy fast lane (embedded)', () => {
  let app: TestApp;
  let liveGood: number;
  let soldOutGood: number;
  let laterGood: number;
  const lane = () => (app.http as unknown as { buyFastLane: { taken: number } }).buyFastLane.taken;

  beforeAll(async () => {
    app = await bootTestApp('embedded');
    const api = apiClient(app.httpUrl);
    const admin = await loginAdmin(api);
    const { sale } = adminSales(api, () => admin, 'Lane good');
    [liveGood, soldOutGood, laterGood] = await Promise.all([sale(100), sale(1), sale(5, { startsInMs: 600_000 })]);
    const [first] = await makeBuyers(app, 1);
    expect((await post('', JSON.stringify({ seckillGoodId: soldOutGood, uuid: newUuid() }), first!.token)).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  async function post(query: string, body: string, token?: string, type = 'application/json'): Promise<Answer> {
    const res = await fetch(`${app.httpUrl}/api/seckill/orders${query}`, {
      method: 'POST',
      headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) as unknown, headers: Object.fromEntries(HEADERS.map((h) => [h, res.headers.get(h)])) };
  }

  /** The same steps for twin buyers, one through each door; the answers of each step must agree. */
  async function twins(steps: (buyer: Buyer) => { body: string; token?: string | undefined }[], opts: { sameUuids?: boolean } = {}): Promise<Answer[]> {
    const [a, b] = await makeBuyers(app, 2);
    const viaLane: Answer[] = [];
    const viaFastify: Answer[] = [];
    const takenBefore = lane();
    for (const step of steps(a!)) viaLane.push(await post('', step.body, step.token));
    for (const step of steps(b!)) viaFastify.push(await post('?via=fastify', step.body, step.token));
    expect(lane() - takenBefore).toBe(viaLane.length);
    // A QUEUED answer names its own request id; everything else must be the same to the byte.
    const comparable = (answers: Answer[]) => (opts.sameUuids === false ? answers.map((x) => ({ ...x, body: { ...(x.body as object), uuid: '(own)' } })) : answers);
    expect(comparable(viaLane)).toEqual(comparable(viaFastify));
    return viaLane;
  }

  it('a unit, its repeat, and a second request of the same buyer', async () => {
    const answers = await twins((buyer) => {
      const body = JSON.stringify({ seckillGoodId: liveGood, uuid: newUuid() });
      const another = JSON.stringify({ seckillGoodId: liveGood, uuid: newUuid() });
      return [body, body, another].map((b) => ({ body: b, token: buyer.token }));
    }, { sameUuids: false });
    expect(answers.map((a) => a.status)).toEqual([200, 200, 409]);
  });

  it('sold out, not started, no such good', async () => {
    const answers = await twins((buyer) =>
      [soldOutGood, laterGood, 2_000_000_000].map((seckillGoodId) => ({ body: JSON.stringify({ seckillGoodId, uuid: newUuid() }), token: buyer.token })),
    );
    expect(answers.map((a) => (a.body as { error: { code: string } }).error.code)).toEqual(['SOLD_OUT', 'NOT_STARTED', 'NOT_FOUND']);
  });

  it('bad bodies and bad tokens: invalid fields, not JSON, a poisoned prototype, a byte-order mark, no token, a forged token', async () => {
    const answers = await twins((buyer) => [
      { body: JSON.stringify({ seckillGoodId: -1 }), token: buyer.token },
      { body: '{"seckillGoodId": 1,', token: buyer.token },
      { body: '{"__proto__": {"admin": true}, "seckillGoodId": 1}', token: buyer.token },
      { body: `\uFEFF${JSON.stringify({ seckillGoodId: soldOutGood, uuid: newUuid() })}`, token: buyer.token },
      { body: JSON.stringify({ seckillGoodId: liveGood, uuid: newUuid() }) },
      { body: JSON.stringify({ seckillGoodId: liveGood, uuid: newUuid() }), token: `${buyer.token.slice(0, -2)}AA` },
    ]);
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 409, 401, 401]);
  });
});
