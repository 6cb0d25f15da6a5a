/**
 * The development SMS sender: nothing leaves the machine; each message is a row of `sms_outbox`, so every api
 * process and the embedded page read the same messages (GET /api/dev/sms-outbox, shown on the register page).
 */
import type { SmsOutbox } from '../../core/ports/sms-sender.ts';
import type { Database } from '../database/database.ts';

export function createOutboxSmsSender(db: Database): SmsOutbox {
  return {
    async send({ phone, text }) {
      await db.query('INSERT INTO sms_outbox (phone, body) VALUES ($1, $2)', [phone, text]);
    },
    async sentTo(phone, limit) {
      const rows = await db.query<{ phone: string; body: string; sent_at: Date }>(
        'SELECT phone, body, sent_at FROM sms_outbox WHERE phone = $1 ORDER BY id DESC LIMIT $2',
        [phone, limit],
      );
      return rows.map((r) => ({ phone: r.phone, text: r.body, sentAt: r.sent_at }));
    },
  };
}
