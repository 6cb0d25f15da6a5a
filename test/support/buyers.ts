/** Many buyers without many scrypt registrations: users inserted straight into the store, tokens signed by the app. */
import { randomBytes } from 'node:crypto';
import type { RunningApp } from '../../src/app/compose.ts';
import type { ApiClient } from './app.ts';

export interface Buyer {
  userId: number;
  token: string;
}

export async function makeBuyers(app: Pick<RunningApp, 'adapters' | 'signer'>, count: number): Promise<Buyer[]> {
  const prefix = 10 + (randomBytes(1)[0]! % 90); // random 2 digits, so buyers of several calls do not collide
  const buyers: Buyer[] = [];
  for (let i = 0; i < count; i++) {
    const phone = `15${prefix}${String(randomBytes(4).readUInt32BE() % 1e7).padStart(7, '0')}`;
    const user = await app.adapters.users.create({ phone, nickname: `buyer ${i}`, passwordHash: 'not-a-login', role: 'user' });
    if (!user) {
      i--; // that phone was taken: draw another
      continue;
    }
    buyers.push({ userId: user.id, token: app.signer.sign({ userId: user.id, role: 'user' }, new Date()).token });
  }
  return buyers;
}

/** The newest 6-digit code the development outbox kept for this phone (SECKILL_SMS_ADAPTER=outbox). */
export async function codeFromOutbox(api: ApiClient, phone: string): Promise<string> {
  const r = await api('GET', `/api/dev/sms-outbox?phone=${phone}`);
  if (r.status !== 200) throw new Error(`the outbox answered ${r.status}: ${JSON.stringify(r.body)}`);
  const code = /\b(\d{6})\b/.exec(r.body.items[0]?.text ?? '')?.[1];
  if (!code) throw new Error(`no code in the outbox for ${phone}: ${JSON.stringify(r.body.items)}`);
  return code;
}

/**
 * Register over HTTP the way a person does with phone verification on: ask for a code, read it from the
 * development outbox, send it with the form. Answers the register response (or the code request's, if refused).
 */
export async function registerOverHttp(
  api: ApiClient,
  body: { phone: string; password: string; nickname?: string },
  opts: { headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const sent = await api('POST', '/api/auth/sms-code', { body: { phone: body.phone, purpose: 'register' }, ...opts });
  if (sent.status !== 202) return sent;
  return api('POST', '/api/auth/register', { body: { ...body, code: await codeFromOutbox(api, body.phone) }, ...opts });
}
