// Run inside a client namespace (`ip netns exec NS node browser-driver.js SPEC`):
// Debian's chromium, headless, opens a URL, fills the login form if asked,
// and prints what it saw as one JSON line. Not a test file: the acceptance
// tests run it, so the browser lives in the client's network namespace.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

interface Spec {
  url: string;
  user?: string;
  password?: string;
  timeoutMs?: number;
}

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
  const profile = mkdtempSync(join(tmpdir(), 'moat-chromium-'));
  const timeout = spec.timeoutMs ?? 20_000;
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`],
    timeout,
  });
  const out: Record<string, unknown> = {};
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(timeout);
    const first = await page.goto(spec.url, { waitUntil: 'load' });
    out.loginUrl = page.url();
    out.loginStatus = first?.status();
    out.hasForm = (await page.$('#login')) !== null;
    if (spec.user !== undefined && out.hasForm === true) {
      await page.type('#username', spec.user);
      await page.type('#password', spec.password ?? '');
      const [answer] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#submit')]);
      out.finalStatus = answer?.status();
    }
    out.finalUrl = page.url();
    out.text = await page.$eval('body', (b) => (b as { innerText?: string }).innerText ?? '');
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

void main();
