/** What the embedded default start leaves on disk and tells its operator. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp } from '../support/app.ts';

describe('embedded start', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
  });

  it('the data folder is private; the generated admin password is shown on the first start only, and works', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-start-'));
    dirs.push(dataDir);
    await fs.chmod(dataDir, 0o755);
    const env = { SECKILL_DATA_DIR: dataDir, SECKILL_ADMIN_PASSWORD: '' };

    const first = await bootTestApp('embedded', env);
    const admin = first.admin!;
    expect(admin).toMatchObject({ source: 'generated now', password: expect.any(String), keptIn: path.join(dataDir, 'admin-password') });
    const login = await apiClient(first.httpUrl)('POST', '/api/auth/login', { body: { phone: admin.phone, password: admin.password } });
    expect(login.status).toBe(200);
    await first.destroy();

    expect((await fs.stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(dataDir, 'admin-password'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.join(dataDir, 'token-secret'))).mode & 0o777).toBe(0o600);

    const second = await bootTestApp('embedded', env);
    expect(second.admin).toEqual({ phone: admin.phone, source: 'kept', keptIn: path.join(dataDir, 'admin-password') });
    await second.destroy();
  }, 60_000);
});
