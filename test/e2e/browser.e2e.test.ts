/**
 * The shop in a real browser (Debian's Chromium via playwright-core) against the whole app in embedded
 * mode on port 0 — the page learns the result socket's real port from /api/config.
 * Screenshots: test-artifacts/screenshots/*.png.
 */
import type { Page, WebSocket as PageSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, newUuid, type ApiClient, type TestApp, loginAdmin } from '../support/app.ts';
import { chromiumAvailable, ensureBuilt, launchBrowser, screenshot, type Browser } from '../support/browser.ts';
import { makeBuyers, registerOverHttp } from '../support/buyers.ts';

const available = chromiumAvailable();
const MIN = 60_000;
/** Polls until the expectation holds; generous, because the test machine is shared and has two cores. */
const eventually = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 20_000, interval: 100 });

describe.skipIf(!available)('the shop in Chromium', () => {
  let app: TestApp;
  let api: ApiClient;
  let adminToken: string;
  let buyerBrowser: Browser;
  let page: Page;
  const goods: Record<'keyboard' | 'earbuds' | 'watch' | 'lamp' | 'cable', number> = { keyboard: 0, earbuds: 0, watch: 0, lamp: 0, cable: 0 };
  const pageErrors: string[] = [];
  /** Frames the page received over its result sockets. */
  const pushed: any[] = [];

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
    const now = Date.now();
    const live = { startAt: new Date(now - MIN).toISOString(), endAt: new Date(now + 60 * MIN).toISOString() };
    goods.keyboard = await createGood({ name: 'Mechanical keyboard K8 / 机械键盘 K8', title: 'Hot-swappable, 84 keys', imageUrl: '/images/keyboard.svg', price: 39900, seckillPrice: 100, stock: 20, ...live });
    goods.earbuds = await createGood({ name: 'Noise-cancelling earbuds / 降噪耳机', title: 'Only one unit', imageUrl: '/images/earbuds.svg', price: 89900, seckillPrice: 9900, stock: 1, ...live });
    goods.watch = await createGood({ name: 'Smart watch S3 / 智能手表 S3', title: 'Starts in 10 minutes', imageUrl: '/images/watch.svg', price: 129900, seckillPrice: 19900, stock: 200, startAt: new Date(now + 10 * MIN).toISOString(), endAt: new Date(now + 60 * MIN).toISOString() });
    goods.lamp = await createGood({ name: 'Desk lamp / 台灯', title: 'No picture, 5 units', price: 9900, seckillPrice: 990, stock: 5, ...live });
    goods.cable = await createGood({ name: 'USB-C cable / 数据线', title: 'For the polling fallback', price: 2900, seckillPrice: 100, stock: 5, ...live });
    // Somebody else is faster: the earbuds' only unit is gone before our buyer arrives.
    const [rival] = await makeBuyers(app, 1);
    expect((await api('POST', '/api/seckill/orders', { token: rival!.token, body: { seckillGoodId: goods.earbuds, uuid: newUuid() } })).status).toBe(200);

    buyerBrowser = await launchBrowser();
    page = await buyerBrowser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('websocket', (socket: PageSocket) => socket.on('framereceived', (f) => pushed.push(JSON.parse(String(f.payload)))));
  }, 120_000);

  afterAll(async () => {
    await buyerBrowser?.close();
    await app?.destroy();
    expect(pageErrors).toEqual([]);
  });

  it('lists the sales with images, ¥ prices, stock and countdowns, and learns the socket address from /api/config', async () => {
    await page.goto(app.httpUrl + '/');
    await eventually(() => page.locator('[data-testid=good-card]').count()).toBe(5);
    const keyboard = page.locator(`[data-good-id="${goods.keyboard}"]`);
    expect(await keyboard.locator('.good-name').textContent()).toBe('Mechanical keyboard K8');
    expect(await keyboard.locator('[data-testid=seckill-price]').textContent()).toBe('¥1.00');
    expect(await keyboard.locator('.orig-price').textContent()).toBe('¥399.00');
    expect(await keyboard.locator('[data-testid=stock]').textContent()).toBe('20 left');
    expect(await keyboard.locator('[data-testid=sale-clock]').textContent()).toMatch(/^Ends in \d\d:\d\d:\d\d$/);
    expect(await page.locator(`[data-good-id="${goods.watch}"] [data-testid=sale-clock]`).textContent()).toMatch(/^Starts in 00:(09|10):\d\d$/);
    await eventually(() => keyboard.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);

    const config = await page.evaluate(() => fetch('/api/config').then((r) => r.json()));
    expect(config).toEqual({ wsUrl: `ws://127.0.0.1:${new URL(app.wsUrl!).port}`, mode: 'embedded', hiddenPath: false, phoneVerification: true, smsOutbox: true, pow: [] });
    await screenshot(page, '01-sales');
  });

  it('registers with the code texted to the phone (read off the outbox the page shows), buys, and sees SUCCESS pushed live over the WebSocket', async () => {
    await page.click('[data-testid=nav-login]');
    await page.click('[data-testid=register-tab]');
    const phone = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    await page.fill('input[name=phone]', phone);
    await page.fill('input[name=password]', 'tulip-orbit-92');
    await page.fill('input[name=nickname]', 'Alice');
    // Without the code the shop refuses, and the page marks the code field.
    await page.click('[data-testid=submit]');
    await page.locator('[data-testid=form-error]').waitFor();
    await page.locator('label.field.invalid input[name=code]').waitFor();
    await page.click('[data-testid=send-code]');
    const message = page.locator('[data-testid=sms-message]').first();
    await message.waitFor();
    expect(await page.locator('[data-testid=send-code]').isDisabled()).toBe(true);
    const code = /\b(\d{6})\b/.exec((await message.textContent()) ?? '')?.[1];
    expect(code).toMatch(/^\d{6}$/);
    // The page shows what the shop kept in its outbox for this phone, nothing else.
    expect((await api('GET', `/api/dev/sms-outbox?phone=${phone}`)).body.items[0].text).toBe(await message.textContent());
    await screenshot(page, '01b-register-code');
    await page.fill('input[name=code]', code!);
    // A password easy to guess is refused (before the code is used up), and the page says why.
    await page.fill('input[name=password]', 'qwerty12');
    await page.click('[data-testid=submit]');
    expect(await page.locator('[data-testid=password-too-easy]').textContent()).toContain('Too easy to guess');
    await page.fill('input[name=password]', 'tulip-orbit-92');
    await page.click('[data-testid=submit]');
    await page.locator('[data-testid=who]', { hasText: 'Alice' }).waitFor();

    // Days later: the access token has expired; the page trades the refresh token and stays logged in.
    const kept = await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('seckill.session')!) as { token: string; expiresAt: string; refreshToken: string };
      localStorage.setItem('seckill.session', JSON.stringify({ ...s, token: 'expired.token', expiresAt: new Date(Date.now() - 1000).toISOString() }));
      return s.refreshToken;
    });
    await page.reload();
    await page.locator('[data-testid=who]', { hasText: 'Alice' }).waitFor();
    await eventually(() => page.evaluate(() => JSON.parse(localStorage.getItem('seckill.session')!).refreshToken as string)).not.toBe(kept);
    expect(await page.evaluate(() => JSON.parse(localStorage.getItem('seckill.session')!).token as string)).not.toBe('expired.token');

    await page.click(`[data-good-id="${goods.keyboard}"]`);
    const buy = page.locator('[data-testid=buy]');
    await eventually(() => buy.textContent()).toBe('Buy now');
    await screenshot(page, '02-sale');
    await buy.click();
    const state = page.locator('[data-testid=buy-state]');
    await page.locator('[data-testid=buy-state][data-state=success]').waitFor();
    expect(await state.getAttribute('data-via')).toBe('ws');
    const orderNo = (await page.locator('[data-testid=order-link]').getAttribute('href'))!.split('/').pop()!;
    await eventually(() => pushed).toContainEqual({ uuid: expect.any(String), status: 'SUCCESS', orderNo, seckillGoodId: goods.keyboard });
    expect(await state.textContent()).toContain(orderNo);
    await screenshot(page, '03-bought');
  });

  it('shows the order with its pay deadline, and pays it', async () => {
    await page.click('[data-testid=order-link]');
    const order = page.locator('[data-testid=order]');
    await order.waitFor();
    expect(await order.locator('[data-status]').getAttribute('data-status')).toBe('UNPAID');
    expect(await page.locator('[data-testid=pay-deadline]').textContent()).toMatch(/^Pay within 00:1[45]:\d\d$/);
    await screenshot(page, '04-order-unpaid');
    const orderNo = (await order.getAttribute('data-order-no'))!;

    await page.click('[data-testid=pay]');
    await page.locator('[data-testid=order-message]').waitFor();
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('seckill.session')!).token as string);
    if ((await order.locator('[data-status]').getAttribute('data-status')) !== 'PAID') {
      // Only acceptable while the pay endpoint does not exist yet: the page must say so plainly.
      const direct = await api('POST', `/api/orders/${orderNo}/pay`, { token });
      expect(direct.status).toBe(404);
      expect(await page.locator('[data-testid=order-message]').textContent()).toBe('Paying is not available on this server yet.');
      console.warn('pay step skipped: POST /api/orders/:orderNo/pay answers 404 (the lifecycle issue has not landed)');
      return;
    }
    expect(await page.locator('[data-testid=order-message]').textContent()).toBe('Paid — thank you!');
    expect((await api('GET', `/api/orders/${orderNo}`, { token })).body.status).toBe('PAID');
    await eventually(() => page.locator('[data-testid=pay]').count()).toBe(0);
    await screenshot(page, '05-order-paid');
  });

  it('cancels an unpaid order from My orders', async () => {
    await page.goto(`${app.httpUrl}/goods/${goods.lamp}`);
    await page.locator('[data-testid=good-name]').waitFor();
    await page.locator('.good-img.placeholder').waitFor(); // no imageUrl: a drawn placeholder
    await page.click('[data-testid=buy]');
    await page.locator('[data-testid=buy-state][data-state=success]').waitFor();
    await page.click('[data-testid=nav-orders]');
    await eventually(() => page.locator('[data-testid=order]').count()).toBe(2);
    const lamp = page.locator('[data-testid=order]').first(); // newest first
    expect(await lamp.locator('.order-name').textContent()).toBe('Desk lamp');
    page.once('dialog', (d) => void d.accept());
    await lamp.locator('[data-testid=cancel]').click();
    await lamp.locator('[data-testid=order-message]').waitFor();
    const status = await lamp.locator('[data-status]').getAttribute('data-status');
    if (status !== 'CANCELLED') {
      expect(await lamp.locator('[data-testid=order-message]').textContent()).toBe('Paying is not available on this server yet.');
      console.warn('cancel step skipped: POST /api/orders/:orderNo/cancel answers 404 (the lifecycle issue has not landed)');
      return;
    }
    await screenshot(page, '06-orders');
  });

  it('a sold-out sale disables the button, and a page that missed the last unit shows SOLD_OUT plainly', async () => {
    await page.goto(`${app.httpUrl}/goods/${goods.earbuds}`);
    const buy = page.locator('[data-testid=buy]');
    await eventually(() => buy.textContent()).toBe('Sold out');
    expect(await buy.isDisabled()).toBe(true);

    // A stale view (stock 1 from just before the rival's purchase): the api is the judge.
    await page.route(`**/api/seckill/goods/${goods.earbuds}`, async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, json: { ...(await res.json()), stock: 1 } });
    });
    await page.reload();
    await eventually(() => buy.textContent()).toBe('Buy now');
    await buy.click();
    const state = page.locator('[data-testid=buy-state][data-state=error]');
    await state.waitFor();
    expect(await state.getAttribute('data-code')).toBe('SOLD_OUT');
    expect(await state.textContent()).toContain('Sold out — every unit has been taken.');
    await screenshot(page, '07-sold-out');
    await page.unroute(`**/api/seckill/goods/${goods.earbuds}`);
  });

  it('an upcoming sale counts down with its button disabled', async () => {
    await page.goto(`${app.httpUrl}/goods/${goods.watch}`);
    const buy = page.locator('[data-testid=buy]');
    await eventually(() => buy.textContent()).toBe('Not started yet');
    expect(await buy.isDisabled()).toBe(true);
    expect(await page.locator('[data-testid=sale-clock]').textContent()).toMatch(/^Starts in 00:(09|10):\d\d$/);
  });

  it('falls back to polling the result when the socket cannot open', async () => {
    const p = await buyerBrowser.context.newPage();
    p.on('pageerror', (err) => pageErrors.push(err.message));
    // Nothing listens on port 9: the socket fails, the page must poll GET /api/seckill/results/:uuid.
    await p.route('**/api/config', (route) => route.fulfill({ json: { wsUrl: 'ws://127.0.0.1:9', mode: 'embedded' } }));
    const polled: string[] = [];
    p.on('request', (req) => {
      if (req.url().includes('/api/seckill/results/')) polled.push(req.url());
    });
    await p.goto(`${app.httpUrl}/goods/${goods.cable}`);
    await p.click('[data-testid=buy]');
    const done = p.locator('[data-testid=buy-state][data-state=success]');
    await done.waitFor();
    expect(await done.getAttribute('data-via')).toBe('poll');
    expect(polled[0]).toContain(`?seckillGoodId=${goods.cable}`);
    await p.close();
  });

  it('switches to Chinese, remembers it, and fits a phone screen', async () => {
    await page.goto(app.httpUrl + '/');
    await page.click('[data-testid=lang]');
    await eventually(() => page.locator('[data-testid=nav-sales]').textContent()).toBe('秒杀活动');
    await page.reload();
    await eventually(() => page.locator('[data-testid=nav-sales]').textContent()).toBe('秒杀活动');
    expect(await page.locator(`[data-good-id="${goods.keyboard}"] .good-name`).textContent()).toBe('机械键盘 K8');

    const phone = await buyerBrowser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(app.httpUrl + '/');
    await eventually(() => phone.locator('[data-testid=good-card]').count()).toBe(5);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(phone, '08-phone-sales', { fullPage: false });
    await phone.goto(`${app.httpUrl}/goods/${goods.earbuds}`);
    await eventually(() => phone.locator('[data-testid=buy]').textContent()).toBe('已抢光');
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(phone, '09-phone-sale-zh', { fullPage: false });
    await phone.click('[data-testid=lang]'); // back to English for the rest
    await phone.close();
  });

  it('an admin creates a sale in the form, sees it listed, and watches a burst on the live dashboard', async () => {
    const admin = await launchBrowser();
    try {
      const p = await admin.context.newPage();
      p.on('pageerror', (err) => pageErrors.push(err.message));
      await p.goto(`${app.httpUrl}/login`);
      await p.fill('input[name=phone]', '13800000000');
      await p.fill('input[name=password]', 'wrong-password');
      await p.click('[data-testid=submit]');
      expect(await p.locator('[data-testid=form-error]').textContent()).toBe('Wrong mobile number or password.');
      await p.fill('input[name=password]', 'admin-pass-123');
      await p.click('[data-testid=submit]');
      await p.click('[data-testid=nav-admin]');
      const form = p.locator('[data-testid=new-sale-form]');
      await form.waitFor();

      // The api's validation names the fields; the form shows a message beside each.
      await form.locator('input[name=price]').fill('abc');
      await p.click('[data-testid=create-sale]');
      await p.locator('[data-testid=error-name]').waitFor();
      await p.locator('[data-testid=error-price]').waitFor();
      expect(await p.locator('[data-testid=form-error]').textContent()).toBe('Please check the highlighted fields.');
      await screenshot(p, '10-admin-form-errors');

      const localTime = (offsetMs: number) =>
        p.evaluate((off) => {
          const ms = Date.now() + off;
          return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
        }, offsetMs);
      await form.locator('input[name=name]').fill('Gaming mouse / 游戏鼠标');
      await form.locator('input[name=title]').fill('Made in the admin form');
      await form.locator('input[name=price]').fill('199');
      await form.locator('input[name=seckillPrice]').fill('9.90');
      await form.locator('input[name=stock]').fill('50');
      await form.locator('input[name=startAt]').fill(await localTime(-MIN));
      await form.locator('input[name=endAt]').fill(await localTime(60 * MIN));
      await p.click('[data-testid=create-sale]');
      await p.locator('[data-testid=created]').waitFor();
      const id = Number(new URL(p.url()).pathname.split('/').pop());
      expect(await p.locator('[data-testid=dash-name]').textContent()).toBe('Gaming mouse');
      await eventually(() => p.locator('[data-testid=tile-stock]').textContent()).toBe('50');
      const good = (await api('GET', `/api/seckill/goods/${id}`)).body;
      expect(good).toMatchObject({ name: 'Gaming mouse / 游戏鼠标', price: 19900, seckillPrice: 990, stock: 50 });

      // A burst spread over ~3 s, so that the chart has something to draw.
      const buyers = await makeBuyers(app, 45);
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          buyers.slice(round * 15, round * 15 + 15).map((b) => api('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: id, uuid: newUuid() } })),
        );
        await new Promise((r) => setTimeout(r, 1000));
      }
      await eventually(() => p.locator('[data-testid=orders-UNPAID] b').textContent()).toBe('45');
      await eventually(() => p.locator('[data-testid=tile-requests]').textContent()).toBe('45');
      await eventually(() => p.locator('[data-testid=tile-prestock]').textContent()).toBe('5');
      expect(Number(await p.locator('[data-testid=rate-chart]').getAttribute('data-points'))).toBeGreaterThan(2);
      await screenshot(p, '11-admin-dashboard');

      await p.click('.back');
      await p.locator(`[data-testid=admin-sale][data-good-id="${id}"]`).waitFor();
      await screenshot(p, '12-admin-sales');
      await p.click('[data-testid=nav-sales]');
      await p.locator(`[data-testid=good-card][data-good-id="${id}"]`).waitFor();
      expect(await p.locator(`[data-good-id="${id}"] [data-testid=stock]`).textContent()).toBe('5 left');
    } finally {
      await admin.close();
    }
  }, 120_000);

  it('the api page at /docs lists the operations of the served document, with nothing refused by its policy', async () => {
    const docs = await buyerBrowser.context.newPage();
    const refused: string[] = [];
    docs.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text());
    });
    docs.on('pageerror', (err) => refused.push(err.message));
    try {
      await docs.goto(app.httpUrl + '/docs');
      await docs.locator('.opblock').first().waitFor();
      const paths = await docs.locator('.opblock-summary-path').allTextContents();
      const documented = Object.keys((await api('GET', '/api/openapi.json')).body.paths);
      for (const p of ['/api/seckill/orders', '/api/seckill/goods', '/api/orders/{orderNo}/pay', '/api/admin/alerts/take']) {
        expect(documented).toContain(p);
        expect(paths.map((t) => t.replace(/\u200b/g, ''))).toContain(p);
      }
      expect(refused).toEqual([]);
      await screenshot(docs, '13-api-docs');
    } finally {
      await docs.close();
    }
  }, 60_000);

  it('a buyer who forgot the password sets a new one with a texted code, and the old one no longer logs in', async () => {
    const phone = `138${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    expect((await registerOverHttp(api, { phone, password: 'forgotten-pass-1' })).status).toBe(201);
    const reset = await buyerBrowser.context.newPage();
    try {
      await reset.goto(app.httpUrl + '/login');
      await reset.click('[data-testid=forgot-password]');
      await reset.fill('input[name=phone]', phone);
      await reset.fill('input[name=password]', 'brand-new-pass-2');
      await reset.click('[data-testid=send-code]');
      const message = reset.locator('[data-testid=sms-message]').first();
      await message.waitFor();
      await reset.fill('input[name=code]', /\b(\d{6})\b/.exec((await message.textContent()) ?? '')![1]!);
      await reset.click('[data-testid=submit]');
      await reset.locator('[data-testid=reset-done]').waitFor();
      await screenshot(reset, '14-password-reset');
      expect((await api('POST', '/api/auth/login', { body: { phone, password: 'forgotten-pass-1' } })).status).toBe(401);
      expect((await api('POST', '/api/auth/login', { body: { phone, password: 'brand-new-pass-2' } })).status).toBe(200);
    } finally {
      await reset.close();
    }
  }, 60_000);
});
