/**
 * The one behaviour suite of the UserStore, run on every engine (PGlite in process, PostgreSQL server).
 * One database per file; each test makes its own users (fresh phones), so tests never see each other.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserStore } from '../../core/ports/user-store.ts';
import type { Role } from '../../core/model.ts';
import type { Database } from '../database/database.ts';
import { migrate } from '../database/migrate.ts';
import { createSqlUserStore } from './sql-user-store.ts';

export type MakeDb = () => Promise<{ db: Database; cleanup: () => Promise<void> }>;

const UNKNOWN_ID = 987_654_321;

export function describeUserStore(label: string, makeDb: MakeDb): void {
  describe(`UserStore on ${label}`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    let users: UserStore;
    const run = randomUUID().replace(/\D/g, '').slice(0, 4).padEnd(4, '0');
    let seq = 0;

    beforeAll(async () => {
      const made = await makeDb();
      cleanup = made.cleanup;
      await migrate(made.db);
      users = createSqlUserStore(made.db);
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const uniquePhone = () => `1${run}${String(++seq).padStart(6, '0')}`;
    const account = (phone: string, role: Role = 'user') => ({ phone, nickname: 'Ann', passwordHash: 'h1', role });
    const newUser = async (role: Role = 'user') => (await users.create(account(uniquePhone(), role)))!;

    describe('accounts', () => {
      it('a new phone → created with token version 0, found by phone (with hash) and by id (without)', async () => {
        const phone = uniquePhone();
        const user = await users.create(account(phone));
        expect(user).toEqual({ id: expect.any(Number), phone, nickname: 'Ann', role: 'user', tokenVersion: 0 });
        expect(await users.findByPhone(phone)).toEqual({ ...user, passwordHash: 'h1' });
        expect(await users.findById(user!.id)).toEqual(user);
      });

      it('a taken phone → create returns null and changes nothing', async () => {
        const phone = uniquePhone();
        await users.create(account(phone));
        expect(await users.create({ ...account(phone, 'admin'), passwordHash: 'h2' })).toBeNull();
        expect(await users.findByPhone(phone)).toMatchObject({ role: 'user', passwordHash: 'h1', tokenVersion: 0 });
      });

      it('race: ten creates of one phone at once → exactly one account, the others null', async () => {
        const phone = uniquePhone();
        const made = await Promise.all(Array.from({ length: 10 }, (_, i) => users.create({ ...account(phone), passwordHash: `h${i}` })));
        const created = made.filter((u) => u !== null);
        expect(created).toHaveLength(1);
        expect(await users.findById(created[0]!.id)).toEqual(created[0]);
      });

      it('unknown phone or id → null', async () => {
        expect(await users.findByPhone(uniquePhone())).toBeNull();
        expect(await users.findById(UNKNOWN_ID)).toBeNull();
      });
    });

    describe('upsert (the admin account at start)', () => {
      it('a new phone → created with the given role and token version 0', async () => {
        const phone = uniquePhone();
        const user = await users.upsert(account(phone, 'admin'));
        expect(user).toEqual({ id: expect.any(Number), phone, nickname: 'Ann', role: 'admin', tokenVersion: 0 });
      });

      it('a known phone, new password and role → same id and nickname, both replaced, token version + 1', async () => {
        const phone = uniquePhone();
        const created = await users.upsert(account(phone));
        const updated = await users.upsert({ phone, nickname: 'Other', passwordHash: 'h2', role: 'admin' });
        expect(updated).toEqual({ id: created.id, phone, nickname: 'Ann', role: 'admin', tokenVersion: 1 });
        expect(await users.findByPhone(phone)).toMatchObject({ passwordHash: 'h2', role: 'admin' });
      });

      it('a role change alone → token version + 1 (tokens carrying the old role stop working)', async () => {
        const phone = uniquePhone();
        await users.upsert(account(phone, 'admin'));
        expect(await users.upsert(account(phone, 'user'))).toMatchObject({ role: 'user', tokenVersion: 1 });
        expect(await users.tokenVersionsOf([(await users.findByPhone(phone))!.id])).toEqual([
          { id: expect.any(Number), role: 'user', tokenVersion: 1 },
        ]);
      });

      it('a password change alone → token version + 1', async () => {
        const phone = uniquePhone();
        await users.upsert(account(phone));
        expect(await users.upsert({ ...account(phone), passwordHash: 'h2' })).toMatchObject({ role: 'user', tokenVersion: 1 });
      });

      it('the same password hash and role again → nothing changes, the token version stays', async () => {
        const phone = uniquePhone();
        const created = await users.upsert(account(phone));
        expect(await users.upsert(account(phone))).toEqual(created);
        expect(await users.upsert(account(phone))).toEqual(created);
      });
    });

    describe('token versions', () => {
      it('bumpTokenVersion raises the version by one each time; an unknown id → null', async () => {
        const user = await newUser();
        expect(await users.bumpTokenVersion(user.id)).toBe(1);
        expect(await users.bumpTokenVersion(user.id)).toBe(2);
        expect(await users.findById(user.id)).toMatchObject({ tokenVersion: 2 });
        expect(await users.bumpTokenVersion(UNKNOWN_ID)).toBeNull();
      });

      it('race: eight logouts at once → eight distinct versions, the last one stored', async () => {
        const user = await newUser();
        const versions = await Promise.all(Array.from({ length: 8 }, () => users.bumpTokenVersion(user.id)));
        expect([...versions].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        expect(await users.findById(user.id)).toMatchObject({ tokenVersion: 8 });
      });

      it('tokenVersionsOf many ids → role and version of each existing id, unknown ids left out; none → empty', async () => {
        const a = await newUser();
        const b = await newUser('admin');
        await users.bumpTokenVersion(b.id);
        const rows = await users.tokenVersionsOf([a.id, b.id, UNKNOWN_ID]);
        expect(rows.sort((x, y) => x.id - y.id)).toEqual([
          { id: a.id, role: 'user', tokenVersion: 0 },
          { id: b.id, role: 'admin', tokenVersion: 1 },
        ]);
        expect(await users.tokenVersionsOf([])).toEqual([]);
      });
    });

    describe('passwords', () => {
      it('a rehash (bump: false) replaces the hash and keeps the token version: sessions go on', async () => {
        const user = await newUser();
        await users.setPasswordHash(user.id, 'h2', { bump: false });
        expect(await users.findByPhone(user.phone)).toMatchObject({ passwordHash: 'h2', tokenVersion: 0 });
      });

      it('a password change (bump: true) replaces the hash and raises the token version: other sessions end', async () => {
        const user = await newUser();
        await users.setPasswordHash(user.id, 'h3', { bump: true });
        expect(await users.findByPhone(user.phone)).toMatchObject({ passwordHash: 'h3', tokenVersion: 1 });
      });

      it('an unknown id → nothing changes, no error', async () => {
        await expect(users.setPasswordHash(UNKNOWN_ID, 'h9', { bump: true })).resolves.toBeUndefined();
        expect(await users.findById(UNKNOWN_ID)).toBeNull();
      });

      it('replaceHashIf: the stored hash still the one read → replaced, token version kept, true; another → untouched, false', async () => {
        const user = await newUser();
        expect(await users.replaceHashIf(user.id, 'h1', 'h1-stronger')).toBe(true);
        expect(await users.findByPhone(user.phone)).toMatchObject({ passwordHash: 'h1-stronger', tokenVersion: 0 });
        expect(await users.replaceHashIf(user.id, 'h1', 'h1-again')).toBe(false);
        expect(await users.findByPhone(user.phone)).toMatchObject({ passwordHash: 'h1-stronger', tokenVersion: 0 });
        expect(await users.replaceHashIf(UNKNOWN_ID, 'h1', 'h2')).toBe(false);
      });

      it('race: a login rehash and a password change at once, on 20 accounts → the changed password stands on every one', async () => {
        const accounts = await Promise.all(Array.from({ length: 20 }, () => newUser()));
        await Promise.all(
          accounts.flatMap((u, i) => {
            const rehash = users.replaceHashIf(u.id, 'h1', `rehash-${i}`);
            const change = users.setPasswordHash(u.id, `changed-${i}`, { bump: true });
            return i % 2 ? [rehash, change] : [change, rehash];
          }),
        );
        for (const [i, u] of accounts.entries()) expect(await users.findByPhone(u.phone)).toMatchObject({ passwordHash: `changed-${i}`, tokenVersion: 1 });
      });

      it('one user’s change leaves every other account alone', async () => {
        const a = await newUser();
        const b = await newUser();
        await users.setPasswordHash(a.id, 'h2', { bump: true });
        await users.bumpTokenVersion(a.id);
        expect(await users.findByPhone(b.phone)).toMatchObject({ passwordHash: 'h1', tokenVersion: 0 });
      });
    });

    describe('refresh tokens', () => {
      const now = new Date('2026-12-01T00:00:00Z');
      const later = new Date('2026-12-15T00:00:00Z');
      const hash = () => randomUUID();

      it('a live token rotates once to its successor, which rotates in turn; the user is answered', async () => {
        const u = await newUser();
        const [a, b, c] = [hash(), hash(), hash()];
        await users.addRefreshToken({ tokenHash: a, userId: u.id, family: hash(), tokenVersion: 3, expiresAt: later });
        expect(await users.rotateRefreshToken(a, { tokenHash: b, expiresAt: later }, now)).toEqual({ userId: u.id, tokenVersion: 3 });
        expect(await users.rotateRefreshToken(b, { tokenHash: c, expiresAt: later }, now)).toEqual({ userId: u.id, tokenVersion: 3 });
      });

      it('a used token presented again revokes its family: the successor stops working too; another family goes on', async () => {
        const u = await newUser();
        const [a, b, c, d, other, other2] = [hash(), hash(), hash(), hash(), hash(), hash()];
        await users.addRefreshToken({ tokenHash: a, userId: u.id, family: hash(), tokenVersion: 3, expiresAt: later });
        await users.addRefreshToken({ tokenHash: other, userId: u.id, family: hash(), tokenVersion: 3, expiresAt: later });
        await users.rotateRefreshToken(a, { tokenHash: b, expiresAt: later }, now);
        expect(await users.rotateRefreshToken(a, { tokenHash: c, expiresAt: later }, now)).toBe('reused');
        expect(await users.rotateRefreshToken(b, { tokenHash: d, expiresAt: later }, now)).toBeNull();
        expect(await users.rotateRefreshToken(a, { tokenHash: hash(), expiresAt: later }, now)).toBe('reused');
        expect(await users.rotateRefreshToken(other, { tokenHash: other2, expiresAt: later }, now)).toEqual({ userId: u.id, tokenVersion: 3 });
      });

      it('of many concurrent uses of one token exactly one gets the user', async () => {
        const u = await newUser();
        const a = hash();
        await users.addRefreshToken({ tokenHash: a, userId: u.id, family: hash(), tokenVersion: 3, expiresAt: later });
        const answers = await Promise.all(Array.from({ length: 20 }, () => users.rotateRefreshToken(a, { tokenHash: hash(), expiresAt: later }, now)));
        expect(answers.filter((x) => typeof x === 'object' && x !== null)).toEqual([{ userId: u.id, tokenVersion: 3 }]);
      });

      it('unknown, expired and revoked tokens answer null; revoking ends every token of the user only', async () => {
        const u = await newUser();
        const v = await newUser();
        const [expired, live, others] = [hash(), hash(), hash()];
        expect(await users.rotateRefreshToken(hash(), { tokenHash: hash(), expiresAt: later }, now)).toBeNull();
        await users.addRefreshToken({ tokenHash: expired, userId: u.id, family: hash(), tokenVersion: 3, expiresAt: now });
        expect(await users.rotateRefreshToken(expired, { tokenHash: hash(), expiresAt: later }, now)).toBeNull();
        await users.addRefreshToken({ tokenHash: live, userId: u.id, family: hash(), tokenVersion: 3, expiresAt: later });
        await users.addRefreshToken({ tokenHash: others, userId: v.id, family: hash(), tokenVersion: 3, expiresAt: later });
        await users.revokeRefreshTokens(u.id, now);
        expect(await users.rotateRefreshToken(live, { tokenHash: hash(), expiresAt: later }, now)).toBeNull();
        expect(await users.rotateRefreshToken(others, { tokenHash: hash(), expiresAt: later }, now)).toEqual({ userId: v.id, tokenVersion: 3 });
      });
    });
  });
}
