/**
 * Phone verification routes: asking for a code, resetting a forgotten password with one, and (only with the
 * development outbox) reading the messages the outbox kept.
 */
import type { FastifyInstance } from 'fastify';
import { resetPassword, type AccountsDeps } from '../../core/accounts.ts';
import { sendCode, type PhoneCodeDeps } from '../../core/phone-codes.ts';
import type { SmsOutbox } from '../../core/ports/sms-sender.ts';
import { parseInput } from './http-errors.ts';
import type { SmsOutboxJson } from './responses.ts';
import { OutboxQuery, ResetPasswordBody, SmsCodeBody } from './schemas.ts';

export interface PhoneRouteDeps {
  codes: PhoneCodeDeps;
  /** The development outbox; null (a real gateway): no outbox route at all. */
  outbox: SmsOutbox | null;
}

export const OUTBOX_SHOWN = 10;

export function registerPhoneRoutes(app: FastifyInstance, deps: PhoneRouteDeps, accounts: AccountsDeps): void {
  // 202 whatever the phone's account state: a code, or a notice to the phone's owner, is on its way.
  app.post('/api/auth/sms-code', async (req, reply) => {
    const body = parseInput(SmsCodeBody, req.body);
    await sendCode(deps.codes, body, { ip: req.ip });
    return reply.code(202).send();
  });

  app.post('/api/auth/reset', async (req, reply) => {
    const body = parseInput(ResetPasswordBody, req.body);
    await resetPassword(accounts, body, { ip: req.ip });
    return reply.code(204).send();
  });

  const outbox = deps.outbox;
  if (!outbox) return;
  // Development only (SECKILL_SMS_ADAPTER=outbox): whoever reads this can register any phone.
  app.get('/api/dev/sms-outbox', async (req) => {
    const { phone } = parseInput(OutboxQuery, req.query);
    const sent = await outbox.sentTo(phone, OUTBOX_SHOWN);
    return { items: sent.map((m) => ({ phone: m.phone, text: m.text, sentAt: m.sentAt.toISOString() })) } satisfies SmsOutboxJson;
  });
}
