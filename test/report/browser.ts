/**
 * Opens an HTML file in Debian's headless Chromium (playwright-core) and reports what a user would hit:
 * console errors, page errors, dialogs, any request that is not file: or data:, and which charts drew.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface PageCheck {
  consoleErrors: string[];
  pageErrors: string[];
  dialogs: string[];
  requests: string[];
  /** Per chart: canvas present and its pixel data not blank. */
  charts: { canvas: boolean; nonBlank: boolean }[];
  /** `<img>` and `<script>` elements inside main (none should come from server text). */
  imgCount: number;
  scriptCount: number;
  title: string;
  bodyText: string;
}

/** Loads `file` and runs `inspect` with the page; saves a full-page screenshot to `screenshot` when given. */
export async function checkPage(file: string, screenshot?: string, viewport = { width: 1366, height: 900 }): Promise<PageCheck> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'dsprobe-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const out: PageCheck = { consoleErrors: [], pageErrors: [], dialogs: [], requests: [], charts: [], imgCount: 0, scriptCount: 0, title: '', bodyText: '' };
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') out.consoleErrors.push(m.text());
    });
    page.on('pageerror', (err) => out.pageErrors.push(String(err)));
    page.on('dialog', async (d) => {
      out.dialogs.push(d.message());
      await d.dismiss();
    });
    page.on('request', (req) => {
      const u = req.url();
      if (!u.startsWith('file:') && !u.startsWith('data:')) out.requests.push(u);
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForTimeout(300);
    out.charts = await page.evaluate(() => {
      return [...document.querySelectorAll('[data-dsprobe-chart] canvas')].map((node) => {
        const c = node as HTMLCanvasElement;
        const ctx2 = c.getContext('2d');
        if (!ctx2 || !c.width || !c.height) return { canvas: true, nonBlank: false };
        const d = ctx2.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < d.length; i += 4) if ((d[i] as number) > 0) painted++;
        return { canvas: true, nonBlank: painted > 50 };
      });
    });
    out.imgCount = await page.evaluate(() => document.querySelectorAll('main img').length);
    out.scriptCount = await page.evaluate(() => document.querySelectorAll('script').length);
    out.title = await page.title();
    out.bodyText = await page.evaluate(() => document.body.innerText);
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await ctx.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  return out;
}
