/**
 * Proof-of-work on (SECKILL_POW=both): a bot that does not solve the puzzle is refused at register and at the
 * buy button and takes nothing, a solution works once, and the page in Chromium solves its puzzles and buys.
 */
import { solveChallenge } from 'altcha-lib/v1';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp, newUuid, type ApiClient, type TestApp, loginAdmin } from '../support/app.ts';
import { adminSales } from '../support/sales.ts';
import { chromiumAvailable, ensureBuilt, launchBrowser, registerInPage, type Browser } from '../support/browser.ts';
import { codeFromOutbox } from '../support/buyers.ts';

const available = chromiumAvailable();
let seq = Math.floor(Math.random() * 1e6);
const newPhone = () => `134${String(++seq).padStart(8, '0')}`;

describe.skipIf(!available)('proof-of-work before register and buying', () => {
  let app: TestApp;
  let api: ApiClient;
  let admin: string;
  let browser: Browser;
  let page: Page;
  let goodId: number;
  const requests: string[] = [];

  /** What a client that does the work sends: a fresh puzzle, solved. */
  const solved = async () => {
    const c = (await api('GET', '/api/pow/challenge')).body;
    const s = await solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
    return Buffer.from(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number: s!.number, salt: c.salt, signature: c.signature })).toString('base64');
  };
  const preStock = async () => (await api('GET', `/api/admin/seckill/goods/${goodId}/stats`, { token: admin })).body.preStock as number;

  beforeAll(async () => {
    ensureBuilt();
    app = await bootTestApp('embedded', { SECKILL_POW: 'both', SECKILL_POW_MAX_NUMBER: '20000' });
    api = apiClient(app.httpUrl);
    admin = await loginAdmin(api);
    goodId = await adminSales(api, () => admin, 'Proof-of-work lamp').sale(5);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('request', (req) => requests.push(`${req.method()} ${new URL(req.url()).pathname}`));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.destroy();
  });

  it('a bot without a solved puzzle is 403 FORBIDDEN at register and at the buy button, and takes nothing', async () => {
    const phone = newPhone();
    expect((await api('POST', '/api/auth/sms-code', { body: { phone, purpose: 'register' } })).status).toBe(202);
    const code = await codeFromOutbox(api, phone);
    const bot = await api('POST', '/api/auth/register', { body: { phone, password: 'good-pass-12', code } });
    expect([bot.status, bot.body.error.code]).toEqual([403, 'FORBIDDEN']);
    // The refusal came before the code was looked at: the same code opens the account with a solved puzzle.
    const person = await api('POST', '/api/auth/register', { body: { phone, password: 'good-pass-12', code, pow: await solved() } });
    expect(person.status).toBe(201);
    const token = person.body.token as string;
    for (const pow of [undefined, 'e30=']) {
      const r = await api('POST', '/api/seckill/orders', { token, body: { seckillGoodId: goodId, uuid: newUuid(), ...(pow ? { pow } : {}) } });
      expect([r.status, r.body.error.code]).toEqual([403, 'FORBIDDEN']);
    }
    expect(await preStock()).toBe(5);
    const pow = await solved();
    expect((await api('POST', '/api/seckill/orders', { token, body: { seckillGoodId: goodId, uuid: newUuid(), pow } })).status).toBe(200);
    expect(await preStock()).toBe(4);
    // The same solution a second time is refused, before the buyer's own duplicate rule is even asked.
    const replay = await api('POST', '/api/seckill/orders', { token, body: { seckillGoodId: goodId, uuid: newUuid(), pow } });
    expect([replay.status, replay.body.error.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('the page solves its puzzles: it registers and buys in Chromium', async () => {
    await page.goto(app.httpUrl + '/');
    expect((await page.evaluate(() => fetch('/api/config').then((r) => r.json()))).pow).toEqual(['register', 'buy']);
    await page.click('[data-testid=nav-login]');
    await registerInPage(page, { phone: newPhone(), password: 'tulip-orbit-92', nickname: 'Pim' });
    await page.locator('[data-testid=who]', { hasText: 'Pim' }).waitFor();
    await page.click(`[data-good-id="${goodId}"]`);
    const buy = page.locator('[data-testid=buy]');
    await expect.poll(() => buy.textContent(), { timeout: 20_000 }).toBe('Buy now');
    await buy.click();
    await page.locator('[data-testid=buy-state][data-state=success]').waitFor();
    expect(requests.filter((r) => r === 'GET /api/pow/challenge')).toHaveLength(2);
    expect(requests.lastIndexOf('GET /api/pow/challenge')).toBeLessThan(requests.lastIndexOf('POST /api/seckill/orders'));
    expect(await preStock()).toBe(3);
  });
});
