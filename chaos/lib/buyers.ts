/**
 * Buyers pressing buy like the shop page does: a request id made once per press, a result socket opened
 * before the request (for some buyers), the same request id sent again while the shop cannot answer,
 * the result polled until it is final; then some pay, some cancel, the rest let the order time out.
 * Everything each buyer saw is kept for the checker.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { Random } from './random.ts';
import { describeAnswer, retryable, type Answer, type ShopClient } from './shop-client.ts';

export interface Buyer {
  userId: number;
  phone: string;
  token: string;
}

export interface FinalSeen {
  via: 'ws' | 'poll' | 'check';
  status: 'SUCCESS' | 'FAIL';
  orderNo?: string;
  reason?: string;
}

export interface RequestRecord {
  uuid: string;
  userId: number;
  goodId: number;
  answers: string[];
  /** Some answer was 200 QUEUED. */
  queued: boolean;
  /** The answer that ended the press without a queue place (409 SOLD_OUT …), if any. */
  refused?: string;
  finals: FinalSeen[];
}

export interface OrderActionRecord {
  orderNo: string;
  userId: number;
  kind: 'pay' | 'cancel';
  answers: string[];
  /** The definitive answer: 200 with the order's status, or 409 ORDER_CLOSED (refunded or not). */
  outcome?: { status: number; orderStatus?: string; refunded?: boolean };
}

/** One moment of the run as a buyer saw it: an answer to a buy (with how long it took) or a final result. */
export type TimelineEvent =
  | { at: number; kind: 'buy'; answer: string; ms: number }
  | { at: number; kind: 'result'; status: 'SUCCESS' | 'FAIL' };

export interface History {
  requests: RequestRecord[];
  actions: OrderActionRecord[];
  /** Every buy answer and every first result, in time order (for the run's report). */
  timeline: TimelineEvent[];
  /** Answers with status 500 (a bug, whatever the fault). */
  serverErrors: string[];
}

export interface BuyersOptions {
  client: ShopClient;
  wsUrl: string;
  buyers: Buyer[];
  /** The sales on now (the run opens new ones as it goes). */
  goodIds: () => readonly number[];
  random: Random;
  payTimeoutMs: number;
  /** Share of presses that open a result socket first. */
  socketShare?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FINAL = new Set(['SUCCESS', 'FAIL']);
/** How long one press keeps trying before the buyer gives up on it (a person would too). */
const GIVE_UP_MS = 180_000;

export function startBuyers(opts: BuyersOptions): { history: History; stop(): Promise<void> } {
  const history: History = { requests: [], actions: [], timeline: [], serverErrors: [] };
  const firstResult = (rec: RequestRecord, status: 'SUCCESS' | 'FAIL') => {
    if (rec.finals.length === 1) history.timeline.push({ at: Date.now(), kind: 'result', status });
  };
  let stopped = false;
  const { client, random } = opts;

  const note = (list: string[], a: Answer, what: string) => {
    const d = describeAnswer(a);
    list.push(d);
    if (a.kind === 'http' && a.status >= 500 && a.status !== 503) history.serverErrors.push(`${what}: ${d} ${JSON.stringify(a.body).slice(0, 200)}`);
  };

  /** Keep asking until the shop answers something definitive (or the buyer gives up). */
  async function untilAnswered(ask: () => Promise<Answer>, list: string[], what: string): Promise<Answer | undefined> {
    const until = Date.now() + GIVE_UP_MS;
    let backoff = 200;
    for (;;) {
      const a = await ask();
      note(list, a, what);
      if (!retryable(a)) return a;
      if (Date.now() > until) return undefined;
      await sleep(backoff + random.int(0, 200));
      backoff = Math.min(2000, backoff * 2);
    }
  }

  function watchSocket(rec: RequestRecord, token: string): () => void {
    let ws: WebSocket | undefined;
    try {
      ws = new WebSocket(`${opts.wsUrl}/${rec.uuid}?token=${encodeURIComponent(token)}`);
    } catch {
      return () => undefined;
    }
    ws.on('message', (data) => {
      try {
        const f = JSON.parse((data as Buffer).toString('utf8')) as { uuid?: string; status?: string; orderNo?: string; reason?: string };
        if (f.uuid === rec.uuid && f.status && FINAL.has(f.status)) {
          rec.finals.push({ via: 'ws', status: f.status as 'SUCCESS' | 'FAIL', ...(f.orderNo ? { orderNo: f.orderNo } : {}), ...(f.reason ? { reason: f.reason } : {}) });
          firstResult(rec, f.status as 'SUCCESS' | 'FAIL');
        }
      } catch {
        /* not a result frame */
      }
    });
    ws.on('error', () => undefined);
    return () => ws?.terminate();
  }

  async function press(buyer: Buyer, goodId: number): Promise<RequestRecord> {
    const rec: RequestRecord = { uuid: `chaos-${randomBytes(9).toString('base64url')}`, userId: buyer.userId, goodId, answers: [], queued: false, finals: [] };
    history.requests.push(rec);
    const closeSocket = random.chance(opts.socketShare ?? 0.3) ? watchSocket(rec, buyer.token) : () => undefined;
    try {
      const a = await untilAnswered(
        async () => {
          const started = Date.now();
          const answer = await client.call('POST', '/api/seckill/orders', { token: buyer.token, body: { seckillGoodId: goodId, uuid: rec.uuid } });
          history.timeline.push({ at: Date.now(), kind: 'buy', answer: describeAnswer(answer), ms: Date.now() - started });
          return answer;
        },
        rec.answers,
        'POST /api/seckill/orders',
      );
      if (!a || a.kind !== 'http') return rec;
      if (a.status !== 200) {
        rec.refused = describeAnswer(a);
        return rec;
      }
      rec.queued = true;
      await pollUntilFinal(rec, buyer);
      return rec;
    } finally {
      closeSocket();
    }
  }

  async function pollUntilFinal(rec: RequestRecord, buyer: Buyer): Promise<void> {
    const until = Date.now() + GIVE_UP_MS;
    while (Date.now() < until) {
      if (rec.finals.some((f) => f.via === 'ws')) return;
      await sleep(400 + random.int(0, 300));
      const a = await client.call('GET', `/api/seckill/results/${rec.uuid}?seckillGoodId=${rec.goodId}`, { token: buyer.token });
      if (a.kind === 'http' && a.status === 200 && FINAL.has(String(a.body.status))) {
        rec.finals.push(finalOf(a.body, 'poll'));
        firstResult(rec, rec.finals[0]!.status);
        return;
      }
      if (a.kind === 'http' && a.status >= 500 && a.status !== 503) note([], a, 'GET /api/seckill/results');
    }
  }

  async function act(buyer: Buyer, orderNo: string, kind: 'pay' | 'cancel'): Promise<OrderActionRecord> {
    const rec: OrderActionRecord = { orderNo, userId: buyer.userId, kind, answers: [] };
    history.actions.push(rec);
    const a = await untilAnswered(() => client.call('POST', `/api/orders/${orderNo}/${kind}`, { token: buyer.token }), rec.answers, `POST /api/orders/:no/${kind}`);
    if (a?.kind === 'http') {
      const details = (a.body.error as { details?: { refunded?: boolean } } | undefined)?.details;
      rec.outcome = {
        status: a.status,
        ...(a.status === 200 ? { orderStatus: String(a.body.status) } : {}),
        ...(details?.refunded !== undefined ? { refunded: details.refunded } : {}),
      };
    }
    return rec;
  }

  async function untilClosed(buyer: Buyer, orderNo: string): Promise<void> {
    const until = Date.now() + GIVE_UP_MS;
    while (Date.now() < until) {
      const a = await client.call('GET', `/api/orders/${orderNo}`, { token: buyer.token });
      if (a.kind === 'http' && a.status === 200 && a.body.status !== 'UNPAID') return;
      await sleep(1000);
    }
  }

  async function buyerLoop(buyer: Buyer): Promise<void> {
    /** Goods on which this buyer holds an order it paid (it will not buy those again). */
    const owned = new Set<number>();
    await sleep(random.int(0, 2000));
    while (!stopped) {
      const choices = opts.goodIds().filter((id) => !owned.has(id));
      if (choices.length === 0) {
        await sleep(1000);
        continue;
      }
      const goodId = random.pick(choices);
      const rec = await press(buyer, goodId);
      const success = rec.finals.find((f) => f.status === 'SUCCESS');
      if (success?.orderNo) {
        const roll = random();
        if (roll < 0.45) {
          // Some pay late enough to race the pay timeout.
          await sleep(random.int(0, Math.round(opts.payTimeoutMs * 1.1)));
          const r = await act(buyer, success.orderNo, 'pay');
          if (r.outcome?.orderStatus === 'PAID') owned.add(goodId);
        } else if (roll < 0.6) {
          await sleep(random.int(0, Math.round(opts.payTimeoutMs * 0.5)));
          await act(buyer, success.orderNo, 'cancel');
        } else {
          // Left unpaid: the buyer presses this good again only once the timeout has closed the order.
          await sleep(opts.payTimeoutMs);
          await untilClosed(buyer, success.orderNo);
        }
      }
      await sleep(random.int(100, 1500));
    }
  }

  const loops = opts.buyers.map((b) => buyerLoop(b));
  return {
    history,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

export function finalOf(body: Record<string, unknown>, via: FinalSeen['via']): FinalSeen {
  return {
    via,
    status: body.status as 'SUCCESS' | 'FAIL',
    ...(typeof body.orderNo === 'string' ? { orderNo: body.orderNo } : {}),
    ...(typeof body.reason === 'string' ? { reason: body.reason } : {}),
  };
}
