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

  it('with METRICS_TOKEN set, /metrics answers only its bearer token (401 in the error shape otherwise)', async () => {
    const app = await bootTestApp('embedded', { METRICS_TOKEN: 'scrape-token-0123456789' });
    try {
      const api = apiClient(app.httpUrl);
      const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: 'Bearer scrape-token-01234567890' }];
      for (const headers of attempts) {
        const r = await api('GET', '/metrics', { headers });
        expect(r.status).toBe(401);
        expect(r.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      }
      const ok = await api('GET', '/metrics', { headers: { authorization: 'Bearer scrape-token-0123456789' } });
      expect(ok.status).toBe(200);
      expect(String(ok.body)).toContain('seckill_');
    } finally {
      await app.destroy();
    }
  }, 60_000);
});
