/** The shop in Chromium with the hidden buy path on: the page asks for a path before it buys; its log-out ends the session on the server. */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, type ApiClient, type TestApp, loginAdmin } from '../support/app.ts';
import { adminSales } from '../support/sales.ts';
import { chromiumAvailable, ensureBuilt, launchBrowser, registerInPage, type Browser } from '../support/browser.ts';

const available = chromiumAvailable();

describe.skipIf(!available)('the shop in Chromium, hidden buy path on', () => {
  let app: TestApp;
  let api: ApiClient;
  let browser: Browser;
  let page: Page;
  let goodId: number;
  const requests: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    app = await bootTestApp('embedded', { SECKILL_HIDDEN_PATH: 'on' });
    api = apiClient(app.httpUrl);
    const admin = await loginAdmin(api);
    goodId = await adminSales(api, () => admin, 'Hidden path lamp').sale(5);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('request', (req) => requests.push(`${req.method()} ${new URL(req.url()).pathname}`));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.destroy();
  });

  it('asks for a buy path, buys with it, and its log-out ends the session on the server', async () => {
    await page.goto(app.httpUrl + '/');
    await page.click('[data-testid=nav-login]');
    await registerInPage(page, { phone: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`, password: 'tulip-orbit-92', nickname: 'Hana' });
    await page.locator('[data-testid=who]', { hasText: 'Hana' }).waitFor();

    await page.click(`[data-good-id="${goodId}"]`);
    const buy = page.locator('[data-testid=buy]');
    await expect.poll(() => buy.textContent(), { timeout: 20_000 }).toBe('Buy now');
    await buy.click();
    await page.locator('[data-testid=buy-state][data-state=success]').waitFor();
    expect(requests).toContain(`GET /api/seckill/goods/${goodId}/path`);
    expect(requests.indexOf(`GET /api/seckill/goods/${goodId}/path`)).toBeLessThan(requests.lastIndexOf('POST /api/seckill/orders'));

    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('seckill.session') ?? '{}').token as string);
    expect((await api('GET', '/api/me', { token })).status).toBe(200);
    await page.click('[data-testid=logout]');
    await expect.poll(() => api('GET', '/api/me', { token }).then((r) => r.status), { timeout: 20_000 }).toBe(401);
  });
});
