import { describe, expect, it } from 'vitest';
import { systemTimers } from '../adapters/timers/system-timers.ts';

describe('accounts on the embedded database', async () => {
  const { beforeAll, afterAll } = await import('vitest');
  const { createPgliteDatabase } = await import('../adapters/database/pglite-database.ts');
  const { migrate } = await import('../adapters/database/migrate.ts');
  const { createSqlUserStore } = await import('../adapters/user-store/sql-user-store.ts');
  const { createTokenSigner, hashPassword } = await import('./credentials.ts');
  const { changePassword, ensureAccount, login, logout, register } = await import('./accounts.ts');
  const { createTokenVersions } = await import('./token-versions.ts');

  const CHEAP = { memoryKiB: 1024, time: 1, parallelism: 1 };
  const clock = { now: () => new Date() };
  let db: Awaited<ReturnType<typeof createPgliteDatabase>>;
  let deps: Parameters<typeof login>[0];
  let phones = 13700000000;
  const phone = () => String(++phones);

  beforeAll(async () => {
    db = await createPgliteDatabase();
    await migrate(db);
    const users = createSqlUserStore(db);
    deps = { users, signer: createTokenSigner('s'.repeat(32), 3600), clock, hashParams: CHEAP, versions: createTokenVersions(users, clock, { ttlMs: 60_000, timers: systemTimers }) };
  });
  afterAll(() => db.close());

  it('a login with a scrypt hash, or an argon2id one of other parameters, stores argon2id at the current ones, sessions kept', async () => {
    for (const older of [{ N: 2 ** 11, r: 8, p: 1 }, { memoryKiB: 2048, time: 1, parallelism: 1 }]) {
      const p = phone();
      const user = (await deps.users.create({ phone: p, nickname: 'n', passwordHash: await hashPassword('older-pass-1', older), role: 'user' }))!;
      await login(deps, { phone: p, password: 'older-pass-1' });
      const stored = (await deps.users.findByPhone(p))!;
      expect(stored.passwordHash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
      expect(stored.tokenVersion).toBe(user.tokenVersion);
      await expect(login(deps, { phone: p, password: 'older-pass-1' })).resolves.toMatchObject({ user: { id: user.id } });
      await expect(login(deps, { phone: p, password: 'older-pass-2' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    }
  });

  it('a login at the current parameters writes nothing', async () => {
    const s = await register(deps, { phone: phone(), password: 'good-pass-12' });
    const before = (await deps.users.findByPhone(s.user.phone))!.passwordHash;
    await login(deps, { phone: s.user.phone, password: 'good-pass-12' });
    expect((await deps.users.findByPhone(s.user.phone))!.passwordHash).toBe(before);
  });

  it('a password change that lands while a login rehashes the old hash stands: the new password works, the old one no longer', async () => {
    const p = phone();
    const older = { N: 2 ** 11, r: 8, p: 1 };
    const user = (await deps.users.create({ phone: p, nickname: 'n', passwordHash: await hashPassword('older-pass-1', older), role: 'user' }))!;
    // The change lands right after the login read the stored hash, while it verifies and hashes again.
    let changed: Promise<unknown> | null = null;
    const users = {
      ...deps.users,
      async findByPhone(phone: string) {
        const found = await deps.users.findByPhone(phone);
        if (phone === p && !changed) {
          changed = changePassword(deps, user.id, { oldPassword: 'older-pass-1', newPassword: 'newer-pass-2' });
          await changed;
        }
        return found;
      },
    };
    await login({ ...deps, users }, { phone: p, password: 'older-pass-1' });
    expect(changed).not.toBeNull();
    await expect(login(deps, { phone: p, password: 'newer-pass-2' })).resolves.toMatchObject({ user: { id: user.id } });
    await expect(login(deps, { phone: p, password: 'older-pass-1' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('logout raises the version the next session carries, and this process knows it at once', async () => {
    const s = await register(deps, { phone: phone(), password: 'good-pass-12' });
    expect(deps.signer.verify(s.token, new Date())!.version).toBe(0);
    await logout(deps, s.user.id, 'user');
    expect(await deps.versions!.current(s.user.id)).toEqual({ role: 'user', tokenVersion: 1 });
    const again = await login(deps, { phone: s.user.phone, password: 'good-pass-12' });
    expect(deps.signer.verify(again.token, new Date())!.version).toBe(1);
  });

  it('a password change needs the current password, raises the version and answers a session of the new one', async () => {
    const s = await register(deps, { phone: phone(), password: 'good-pass-12' });
    await expect(changePassword(deps, s.user.id, { oldPassword: 'wrong-pass-1', newPassword: 'new-pass-123' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(changePassword(deps, s.user.id, { oldPassword: 'good-pass-12', newPassword: '12345678' })).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { fields: ['newPassword'] } });
    const fresh = await changePassword(deps, s.user.id, { oldPassword: 'good-pass-12', newPassword: 'new-pass-123' });
    expect(deps.signer.verify(fresh.token, new Date())!.version).toBe(1);
    await expect(login(deps, { phone: s.user.phone, password: 'good-pass-12' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(login(deps, { phone: s.user.phone, password: 'new-pass-123' })).resolves.toBeTruthy();
  });

  it('ensureAccount with the same password and role keeps the sessions; a new password or role ends them', async () => {
    const p = phone();
    const first = await ensureAccount(deps, { phone: p, password: 'admin-pass-1', nickname: 'a', role: 'admin' });
    expect((await ensureAccount(deps, { phone: p, password: 'admin-pass-1', nickname: 'a', role: 'admin' })).tokenVersion).toBe(first.tokenVersion);
    expect((await ensureAccount(deps, { phone: p, password: 'admin-pass-2', nickname: 'a', role: 'admin' })).tokenVersion).toBe(first.tokenVersion + 1);
    expect((await ensureAccount(deps, { phone: p, password: 'admin-pass-2', nickname: 'a', role: 'user' })).tokenVersion).toBe(first.tokenVersion + 2);
  });
});
