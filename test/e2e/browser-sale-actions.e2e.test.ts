/**
 * The admin's sale actions in a real browser (Debian's Chromium via playwright-core) against the whole app in
 * embedded mode: edit a sale before its start, pause and resume one that runs (a buyer hears PAUSED
 * meanwhile), add units to a sold-out one, end one now. Screenshots: test-artifacts/screenshots/*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, loginAdmin, newUuid, type ApiClient, type TestApp, TEST_ADMIN } from '../support/app.ts';
import { chromiumAvailable, ensureBuilt, launchBrowser, screenshot, type Browser } from '../support/browser.ts';
import { makeBuyers } from '../support/buyers.ts';
import { buyAndWait } from '../support/sales.ts';

const available = chromiumAvailable();
const MIN = 60_000;
const eventually = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 20_000, interval: 100 });

describe.skipIf(!available)('sale actions on the admin page in Chromium', () => {
  let app: TestApp;
  let api: ApiClient;
  let adminToken: string;
  let browser: Browser;
  const pageErrors: string[] = [];

  const createGood = async (body: Record<string, unknown>) => {
    const r = await api('POST', '/api/admin/seckill/goods', { token: adminToken, body });
    expect(r.status).toBe(201);
    return r.body.id as number;
  };

  beforeAll(async () => {
    ensureBuilt();
    app = await bootTestApp('embedded');
    api = apiClient(app.httpUrl);
    adminToken = await loginAdmin(api);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.destroy();
    expect(pageErrors).toEqual([]);
  });

  it('edit before the start, pause and resume, add units to a sold-out sale, end one now', async () => {
    const now = Date.now();
    const upcoming = await createGood({ name: 'Wrong price lamp', price: 9900, seckillPrice: 9, stock: 5, startAt: new Date(now + 30 * MIN).toISOString(), endAt: new Date(now + 90 * MIN).toISOString() });
    const running = await createGood({ name: 'Running kettle', price: 9900, seckillPrice: 990, stock: 1, startAt: new Date(now - MIN).toISOString(), endAt: new Date(now + 60 * MIN).toISOString() });
    const [first, second, third] = await makeBuyers(app, 3);
    await buyAndWait(api, first!.token, running);

    const p = await browser.context.newPage();
    p.on('pageerror', (err) => pageErrors.push(err.message));
    await p.goto(`${app.httpUrl}/login`);
    await p.fill('input[name=phone]', TEST_ADMIN.phone);
    await p.fill('input[name=password]', TEST_ADMIN.password);
    await p.click('[data-testid=submit]');
    await p.click('[data-testid=nav-admin]');
    const row = (id: number) => p.locator(`[data-testid=admin-sale][data-good-id="${id}"]`);
    await row(upcoming).waitFor();

    // Edit before the start: a wrong flash price is put right; a started sale offers no edit.
    expect(await row(running).locator('[data-testid=edit-sale]').count()).toBe(0);
    await row(upcoming).locator('[data-testid=edit-sale]').click();
    const form = row(upcoming).locator('[data-testid=edit-sale-form]');
    await form.locator('input[name=seckillPrice]').fill('990');
    await form.locator('input[name=price]').fill('99');
    await form.locator('[data-testid=save-edit]').click();
    await p.locator('[data-testid=edit-error]').waitFor();
    expect(await p.locator('[data-testid=edit-error]').textContent()).toBe('Please check the highlighted fields.');
    await form.locator('input[name=seckillPrice]').fill('9.90');
    await form.locator('[data-testid=save-edit]').click();
    await eventually(() => row(upcoming).locator('[data-testid=edit-sale-form]').count()).toBe(0);
    expect((await api('GET', `/api/seckill/goods/${upcoming}`)).body).toMatchObject({ seckillPrice: 990, price: 9900 });
    await eventually(() => row(upcoming).textContent()).toContain('¥9.90');

    // Pause: the row says so and a buyer hears PAUSED; resume opens it again.
    await row(running).locator('[data-testid=pause-sale]').click();
    await row(running).locator('[data-testid=paused-badge]').waitFor();
    await screenshot(p, '30-admin-sale-paused');
    const pressed = await api('POST', '/api/seckill/orders', { token: second!.token, body: { seckillGoodId: running, uuid: newUuid() } });
    expect(pressed.body.error.code).toBe('PAUSED');
    await row(running).locator('[data-testid=resume-sale]').click();
    await row(running).locator('[data-testid=pause-sale]').waitFor();
    expect(await row(running).locator('[data-testid=paused-badge]').count()).toBe(0);

    // Sold out (its only unit went to the first buyer): two more units, two more buyers win.
    const soldOut = await api('POST', '/api/seckill/orders', { token: second!.token, body: { seckillGoodId: running, uuid: newUuid() } });
    expect(soldOut.body.error.code).toBe('SOLD_OUT');
    await row(running).locator('[data-testid=restock-units]').fill('0');
    await row(running).locator('[data-testid=restock-sale]').click();
    expect(await row(running).locator('[data-testid=action-error]').textContent()).toBe('Please check the highlighted fields.');
    await row(running).locator('[data-testid=restock-units]').fill('2');
    await row(running).locator('[data-testid=restock-sale]').click();
    expect(await row(running).locator('[data-testid=action-done]').textContent()).toBe('2 more units on sale.');
    const stats = (await api('GET', `/api/admin/seckill/goods/${running}/stats`, { token: adminToken })).body;
    expect(stats).toMatchObject({ stock: 2, preStock: 2 });
    await buyAndWait(api, second!.token, running);
    await buyAndWait(api, third!.token, running);
    await screenshot(p, '31-admin-sale-restocked');

    // End now, asked twice: the row leaves its actions behind and buyers hear ENDED.
    await row(running).locator('[data-testid=end-sale]').click();
    expect(await row(running).locator('[data-testid=end-sale]').textContent()).toBe('Really end it?');
    await row(running).locator('[data-testid=end-sale]').click();
    await eventually(() => row(running).locator('[data-testid=sale-actions]').count()).toBe(0);
    const late = await api('POST', '/api/seckill/orders', { token: first!.token, body: { seckillGoodId: running, uuid: newUuid() } });
    expect(late.body.error.code).toBe('ENDED');
    await p.close();
  }, 120_000);
});
