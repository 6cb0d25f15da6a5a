/**
 * The one behaviour suite of the PhoneCodeStore and the outbox SMS sender (both tables of one database), run
 * on every engine (PGlite in process, PostgreSQL server). Each test uses its own phones.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhoneCodeStore } from '../../core/ports/phone-code-store.ts';
import type { SmsOutbox } from '../../core/ports/sms-sender.ts';
import type { Database } from '../database/database.ts';
import { migrate } from '../database/migrate.ts';
import { createOutboxSmsSender } from '../sms-sender/outbox-sms-sender.ts';
import { createSqlPhoneCodeStore } from './sql-phone-code-store.ts';

export type MakeDb = () => Promise<{ db: Database; cleanup: () => Promise<void> }>;

export function describePhoneCodeStore(label: string, makeDb: MakeDb): void {
  describe(`PhoneCodeStore and the SMS outbox on ${label}`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    let codes: PhoneCodeStore;
    let outbox: SmsOutbox;
    const run = randomUUID().replace(/\D/g, '').slice(0, 4).padEnd(4, '0');
    let seq = 0;
    const phone = () => `1${run}${String(++seq).padStart(6, '0')}`;
    const now = new Date('2026-12-06T12:00:00Z');
    const later = (ms: number) => new Date(now.getTime() + ms);

    beforeAll(async () => {
      const made = await makeDb();
      cleanup = made.cleanup;
      await migrate(made.db);
      codes = createSqlPhoneCodeStore(made.db);
      outbox = createOutboxSmsSender(made.db);
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it('a live code answers its hash on each attempt until the attempts run out', async () => {
      const p = phone();
      await codes.put({ phone: p, purpose: 'register', codeHash: 'h-1', expiresAt: later(60_000) });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await codes.takeAttempt(p, 'register', now, 3));
      expect(answers.map((a) => a?.codeHash ?? null)).toEqual(['h-1', 'h-1', 'h-1', null]);
    });

    it('an expired code, a code of the other purpose and a phone never sent one answer nothing', async () => {
      const p = phone();
      await codes.put({ phone: p, purpose: 'reset', codeHash: 'h-2', expiresAt: later(1000) });
      expect(await codes.takeAttempt(p, 'reset', later(1000), 5)).toBeNull();
      expect(await codes.takeAttempt(p, 'register', now, 5)).toBeNull();
      expect(await codes.takeAttempt(phone(), 'reset', now, 5)).toBeNull();
    });

    it('a new code replaces the old one: its attempts start again and a consume of the old id does not use it', async () => {
      const p = phone();
      await codes.put({ phone: p, purpose: 'register', codeHash: 'old', expiresAt: later(60_000) });
      const old = (await codes.takeAttempt(p, 'register', now, 2))!;
      await codes.takeAttempt(p, 'register', now, 2);
      await codes.put({ phone: p, purpose: 'register', codeHash: 'new', expiresAt: later(60_000) });
      expect(await codes.consume(old.id)).toBe(false);
      const fresh = await codes.takeAttempt(p, 'register', now, 2);
      expect(fresh?.codeHash).toBe('new');
      expect(fresh?.id).not.toBe(old.id);
    });

    it('50 racing attempts on one code: exactly the allowed number get its hash', async () => {
      const p = phone();
      await codes.put({ phone: p, purpose: 'register', codeHash: 'h-3', expiresAt: later(60_000) });
      const answers = await Promise.all(Array.from({ length: 50 }, () => codes.takeAttempt(p, 'register', now, 5)));
      expect(answers.filter((a) => a !== null)).toHaveLength(5);
    });

    it('20 racing consumes of one code: exactly one uses it, and it answers nothing afterwards', async () => {
      const p = phone();
      await codes.put({ phone: p, purpose: 'reset', codeHash: 'h-4', expiresAt: later(60_000) });
      const { id } = (await codes.takeAttempt(p, 'reset', now, 5))!;
      const used = await Promise.all(Array.from({ length: 20 }, () => codes.consume(id)));
      expect(used.filter(Boolean)).toHaveLength(1);
      expect(await codes.takeAttempt(p, 'reset', now, 5)).toBeNull();
    });

    it('the outbox answers the messages to one phone, newest first, at most the limit asked', async () => {
      const [a, b] = [phone(), phone()];
      for (const text of ['one', 'two', 'three']) await outbox.send({ phone: a, text });
      await outbox.send({ phone: b, text: 'other' });
      const sent = await outbox.sentTo(a, 2);
      expect(sent.map((m) => [m.phone, m.text])).toEqual([[a, 'three'], [a, 'two']]);
      expect(sent[0]!.sentAt).toBeInstanceOf(Date);
      expect((await outbox.sentTo(b, 10)).map((m) => m.text)).toEqual(['other']);
    });
  });
}
