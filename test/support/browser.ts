/**
 * Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core (no browser download),
 * a fresh profile per launch, the build made when it is missing or older than its sources,
 * and screenshots kept under test-artifacts/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True when Chromium is installed; under CI=true a missing browser fails the run instead of skipping. */
export function chromiumAvailable(): boolean {
  if (fs.existsSync(CHROMIUM_PATH)) return true;
  const message = `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(`${message} — CI never skips browser tests`);
  console.warn(`skipping browser tests: ${message}`);
  return false;
}

/**
 * Build dist/ and web/dist unless they are newer than every source, the way `npm start` does (one builder
 * at a time per checkout, so test files that need the build may ask for it at once).
 */
export function ensureBuilt(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const profile = await fsp.mkdtemp(path.join(os.tmpdir(), 'seckill-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: opts.viewport ?? { width: 1280, height: 860 },
    locale: 'en-US',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      await fsp.rm(profile, { recursive: true, force: true });
    },
  };
}

/** Save a full-page screenshot as test-artifacts/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  await fsp.mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? true, animations: 'disabled' });
  return file;
}

/**
 * Register on the shop's page as a person does with phone verification on: fill the form, press "Send code",
 * read the code off the development outbox the page shows, type it in, submit.
 */
export async function registerInPage(page: Page, form: { phone: string; password: string; nickname: string }): Promise<void> {
  await page.click('[data-testid=register-tab]');
  await page.fill('input[name=phone]', form.phone);
  await page.fill('input[name=password]', form.password);
  await page.fill('input[name=nickname]', form.nickname);
  await page.click('[data-testid=send-code]');
  const message = page.locator('[data-testid=sms-message]').first();
  await message.waitFor();
  const code = /\b(\d{6})\b/.exec((await message.textContent()) ?? '')?.[1];
  if (!code) throw new Error(`no code in the outbox shown on the page: ${await message.textContent()}`);
  await page.fill('input[name=code]', code);
  await page.click('[data-testid=submit]');
}
