/**
 * The admin page's customer-service tools in Chromium (embedded mode): a sale's orders downloaded as CSV, an
 * order found by the buyer's phone and refunded (the buyer then sees it REFUNDED), and the audit log listing it.
 * Screenshots: test-artifacts/screenshots/20-*.png.
 */
import fs from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, loginAdmin, TEST_ADMIN, type ApiClient, type TestApp } from '../support/app.ts';
import { chromiumAvailable, ensureBuilt, launchBrowser, screenshot, type Browser } from '../support/browser.ts';
import { makeBuyers, type Buyer } from '../support/buyers.ts';
import { adminSales, buyAndWait } from '../support/sales.ts';

const available = chromiumAvailable();
const eventually = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 20_000, interval: 100 });

describe.skipIf(!available)('the admin page: orders, refunds, export, audit (Chromium)', () => {
  let app: TestApp;
  let api: ApiClient;
  let adminToken: string;
  let browser: Browser;
  let page: Page;
  let goodId: number;
  let buyers: (Buyer & { orderNo: string; phone: string })[];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    app = await bootTestApp('embedded');
    api = apiClient(app.httpUrl);
    adminToken = await loginAdmin(api);
    goodId = await adminSales(api, () => adminToken, 'Refund lamp, "deluxe" / 退款台灯').sale(5);
    buyers = [];
    for (const b of await makeBuyers(app, 3)) {
      const orderNo = await buyAndWait(api, b.token, goodId);
      buyers.push({ ...b, orderNo, phone: (await api('GET', '/api/me', { token: b.token })).body.phone });
    }
    for (const b of buyers.slice(0, 2)) expect((await api('POST', `/api/orders/${b.orderNo}/pay`, { token: b.token })).status).toBe(200);

    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${app.httpUrl}/login`);
    await page.fill('input[name=phone]', TEST_ADMIN.phone);
    await page.fill('input[name=password]', TEST_ADMIN.password);
    await page.click('[data-testid=submit]');
    await page.click('[data-testid=nav-admin]');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.destroy();
    expect(pageErrors).toEqual([]);
  });

  it("downloads a sale's orders as CSV from its row", async () => {
    const row = page.locator(`[data-testid=admin-sale][data-good-id="${goodId}"]`);
    await row.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('[data-testid=export-csv]').click()]);
    expect(download.suggestedFilename()).toBe(`sale-${goodId}-orders.csv`);
    const text = await fs.readFile((await download.path()), 'utf8');
    const lines = text.replace(/^\uFEFF/, '').split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('order_no,created_at,buyer_id,buyer_phone,good_id,good_name,seckill_price_cents,seckill_price_yuan,status,paid_at,closed_or_refunded_at');
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual(buyers.map((b) => b.orderNo).sort());
    expect(lines[1]).toContain(',"Refund lamp, ""deluxe"" / 退款台灯",990,9.90,');
  });

  it('finds an order by the buyer phone and refunds it; the buyer sees it refunded', async () => {
    const [paid] = buyers;
    const search = page.locator('[data-testid=order-search]');
    await search.locator('input[name=phone]').fill(paid!.phone);
    await search.locator('[data-testid=search-orders]').click();
    const row = search.locator(`[data-testid=found-order][data-order-no="${paid!.orderNo}"]`);
    await row.waitFor();
    expect(await search.locator('[data-testid=found-order]').count()).toBe(1);
    expect(await row.textContent()).toContain('Paid');
    await screenshot(page, '20-admin-order-found');
    await row.locator('[data-testid=refund]').click();
    await eventually(() => search.locator('[data-testid=refund-notice]').textContent()).toBe(`Order ${paid!.orderNo} is refunded.`);
    expect(await row.textContent()).toContain('Refunded');
    expect(await row.locator('[data-testid=refund]').count()).toBe(0);
    const mine = await api('GET', '/api/orders', { token: paid!.token });
    expect(mine.body.items.map((o: any) => [o.orderNo, o.status])).toEqual([[paid!.orderNo, 'REFUNDED']]);
  });

  it('searches a sale by status, then all its orders', async () => {
    const search = page.locator('[data-testid=order-search]');
    await search.locator('input[name=phone]').fill('');
    await search.locator('input[name=seckillGoodId]').fill(String(goodId));
    await search.locator('select[name=status]').selectOption('UNPAID');
    await search.locator('[data-testid=search-orders]').click();
    await eventually(() => search.locator('[data-testid=found-order]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order-no')))).toEqual([buyers[2]!.orderNo]);
    await search.locator('select[name=status]').selectOption('');
    await search.locator('[data-testid=search-orders]').click();
    await eventually(() => search.locator('[data-testid=found-order]').count()).toBe(3);
  });

  it('lists what admins did, newest first: the refund, then the sale', async () => {
    const audit = page.locator('[data-testid=audit-list]');
    await audit.locator('[data-testid=audit-refresh]').click();
    await eventually(() => audit.locator('[data-testid=audit-entry]').first().getAttribute('data-action')).toBe('order.refund');
    const texts = await audit.locator('[data-testid=audit-entry]').allTextContents();
    expect(texts[0]).toContain('Order refunded');
    expect(texts[0]).toContain(buyers[0]!.orderNo);
    expect(texts[0]).toContain('from 127.0.0.1');
    expect(texts[1]).toContain('Sale created');
    await screenshot(page, '21-admin-audit');
  });
});
