import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, hasChromium, ROOT, startBrowserServe, type BrowserServe } from '../support/browser-serve';

/**
 * Every screen in Chromium at 1280 and 820 px wide, light and dark, after a real (tiny) run: the
 * screenshots land in test-results/screens/ (`<screen>-<width>-<theme>.png`) for people to look
 * at, and the layout is checked where a browser is needed to check it: nothing wider than the
 * window, Export on screen, the volume figure's labels apart, banners over the content rather
 * than pushing it down. On the way, the paused run answers requests from the UI (a checkpoint,
 * an evaluation, gradient norms) and Stop asks before stopping.
 */
const SHOTS = path.join(ROOT, 'test-results', 'screens');
if (!hasChromium) console.warn(`[screens e2e] skipped: ${CHROMIUM} not found (apt-get install -y chromium).`);

const WIDTHS = [1280, 820] as const;
const THEMES = ['light', 'dark'] as const;
const HEIGHT = { 1280: 900, 820: 1180 } as const;

let served: BrowserServe | null = null;
let page: Page;
const work = mkdtempSync(path.join(tmpdir(), 'dwb-screens-'));
const state = async () => ((await page.locator('[data-test=run-state]').textContent()) ?? '').trim();

async function field(name: string, value: string) {
  await page.fill(`[data-test=${name}]`, value);
  await page.locator(`[data-test=${name}]`).dispatchEvent('change');
}

/** Fails when the page is wider than the window (something would be off-screen). */
async function expectNoSidewaysScroll(what: string) {
  // A string, so this Node-side file needs no DOM types.
  const { scroll, inner } = (await page.evaluate('({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })')) as { scroll: number; inner: number };
  expect(scroll, `${what}: page is ${scroll}px wide in a ${inner}px window`).toBeLessThanOrEqual(inner);
}

/** Bounding boxes of the figure's labels, in the browser's own text metrics. */
async function figureLabelsApart() {
  const boxes = (await page.evaluate(`[...document.querySelectorAll('.arch-figure g.stage-group')].map((g) =>
    [...g.querySelectorAll('text')].map((t) => { const b = t.getBoundingClientRect(); return { left: b.left, right: b.right, text: t.textContent }; }))`)) as { left: number; right: number; text: string }[][];
  expect(boxes.length).toBeGreaterThan(8);
  for (let i = 1; i < boxes.length; i++) {
    for (let row = 0; row < 2; row++) {
      expect(boxes[i][row].left, `"${boxes[i - 1][row].text}" runs into "${boxes[i][row].text}"`).toBeGreaterThanOrEqual(boxes[i - 1][row].right);
    }
  }
}

async function nodeClick(id: string) {
  const canvas = page.locator('canvas[data-nodes]');
  const nodes = JSON.parse((await canvas.getAttribute('data-nodes')) ?? '[]') as { id: string; x: number; y: number }[];
  const blocks = JSON.parse((await canvas.getAttribute('data-blocks')) ?? '[]') as { id: string; x: number; y: number }[];
  const target = [...nodes, ...blocks].find((n) => n.id === id);
  expect(target, id).toBeDefined();
  const box = (await canvas.boundingBox())!;
  await page.mouse.click(box.x + target!.x, box.y + target!.y);
}

describe.skipIf(!hasChromium)('screens at 1280 and 820 px, light and dark', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    served = await startBrowserServe(work);
    page = await served.browser.newPage({ viewport: { width: 1280, height: HEIGHT[1280] } });
    page.on('pageerror', (e) => console.error('[page error]', e.message));
  }, 120_000);

  afterAll(async () => {
    await served?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('checks training fields live, keeps the form across a reload, and trains a tiny run', async () => {
    await page.goto(served!.url);
    // Fashion-MNIST: long class names, for the confusion matrix's headers.
    await page.getByLabel('Fashion-MNIST', { exact: true }).check();
    await field('limit', '200');
    await field('blocks', '2, 2');
    await field('k', '4');
    await field('epochs', '-1');
    await expect(page.locator('[data-test=settings-problems]').innerText()).resolves.toBe('Epochs must be a whole number from 1 to 100,000; got -1.');
    await expect(page.locator('[data-test=start]').isDisabled()).resolves.toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'new-run-invalid-1280-light.png') });
    await page.reload();
    await expect(page.locator('[data-test=settings-problems]').innerText()).resolves.toContain('got -1');
    await expect(page.locator('[data-test=blocks]').inputValue()).resolves.toBe('2, 2');
    // 180 training images in batches of 32: five full batches and one of 20 per epoch.
    await field('epochs', '6');
    await field('batch', '32');
    await field('stats-every', '2');
    // No gradients captured while training: the paused run computes them when asked.
    await field('gradients-every', '0');
    await page.selectOption('[data-test=backend]', 'wasm');
    await page.click('[data-test=scan]');
    await expect.poll(() => page.locator('[data-test=scan-report]').count(), { timeout: 30_000 }).toBe(1);
    await page.click('[data-test=start]');
    await expect.poll(state, { timeout: 30_000 }).toBe('running');
    await expect.poll(() => page.locator('[data-test=epoch]').innerText(), { timeout: 90_000 }).toMatch(/^[3-6] \/ 6/);
    await page.click('[data-test=pause]');
    await expect.poll(state, { timeout: 20_000 }).toBe('paused');
  });

  it('answers requests on the paused run, each banner settling in place over the content', async () => {
    // A checkpoint: the banner floats (the header does not move) and settles when it is written.
    const before = await page.locator('h1').boundingBox();
    await page.getByRole('button', { name: 'Checkpoint now' }).click();
    await expect.poll(() => page.locator('[data-test=banners] [data-key=snapshot]').innerText(), { timeout: 20_000 }).toMatch(/written at step \d+, as requested/);
    expect(await page.locator('h1').boundingBox()).toEqual(before);
    expect(await page.locator('[data-test=banners] .banner').count()).toBe(1);

    // Stop asks first; "Keep training" keeps it paused.
    await page.click('[data-test=stop]');
    await expect(page.locator('[data-test=confirm]').innerText()).resolves.toContain('Stop this run?');
    await page.screenshot({ path: path.join(SHOTS, 'stop-confirm-1280-light.png') });
    await page.click('[data-test=confirm-cancel]');
    await expect(state()).resolves.toBe('paused');

    await page.click('[data-nav=evaluation]');
    await page.getByRole('button', { name: 'Evaluate now' }).click();
    await expect.poll(() => page.locator('table.confusion').count(), { timeout: 60_000 }).toBe(1);

    await page.click('[data-nav=architecture]');
    await nodeClick('conv2_block2');
    await expect.poll(() => page.locator('[data-test=inspector]').count(), { timeout: 10_000 }).toBe(1);
    await expect(page.locator('[data-test=inspector] [data-test=schematic]').getAttribute('data-kind')).resolves.toBe('dense-layer');
    await expect(page.locator('[data-test=grad-layer]').count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'request them' }).click();
    await expect.poll(() => page.locator('[data-test=grad-layer]').count(), { timeout: 30_000 }).toBe(2); // 1×1 and 3×3 conv
    await expect(page.locator('[data-test=grad-layer] h4').first().innerText()).resolves.toMatch(/^conv2_block2_1_conv\s+1×1 bottleneck conv$/);
    await expect.poll(() => page.locator('[data-test=banners] [data-key="inspect:gradients"]').innerText()).toMatch(/Gradient norms arrived/);
    await page.screenshot({ path: path.join(SHOTS, 'paused-gradients-1280-light.png') });

    await page.click('[data-nav=dashboard]');
    await page.click('[data-test=resume]');
    await expect.poll(state, { timeout: 120_000 }).toMatch(/finished|completed/);
  });

  it('exports the HTML report, whose charts have whole-number step ticks and readable heat maps', async () => {
    await page.click('[data-nav=dashboard]');
    await page.click('[data-test=export]');
    await page.selectOption('.modal select', 'report');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    await expect.poll(() => page.locator('.export-result').count(), { timeout: 60_000 }).toBe(1);
    const files = await page.locator('.export-result li code').allInnerTexts();
    const html = files.find((f) => f.endsWith('.html'));
    expect(html, files.join(', ')).toBeDefined();
    const dir = await page.locator('.export-result p code').innerText();
    await page.keyboard.press('Escape');
    const report = await served!.browser.newPage({ viewport: { width: 1280, height: 1600 } });
    await report.goto(`file://${path.isAbsolute(html!) ? html : path.join(dir, html!)}`);
    const ticks = await report.locator('svg.chart text[text-anchor=middle]').allInnerTexts();
    expect(ticks.filter((t) => /^[\d.]+$/.test(t)).every((t) => /^\d+$/.test(t)), ticks.join(' ')).toBe(true);
    await report.screenshot({ path: path.join(SHOTS, 'report-1280-light.png'), fullPage: true });
    await report.setViewportSize({ width: 820, height: 1600 });
    await report.screenshot({ path: path.join(SHOTS, 'report-820-light.png'), fullPage: true });
    await report.close();
  });

  for (const theme of THEMES) {
    for (const width of WIDTHS) {
      it(`shows every screen at ${width} px, ${theme}`, async () => {
        await page.emulateMedia({ colorScheme: theme });
        await page.setViewportSize({ width, height: HEIGHT[width] });
        // Banners from the requests above would cover parts of the screenshots.
        // (In one go in the page: they also expire by themselves, so one may be gone before a click reaches it.)
        await page.evaluate(`document.querySelectorAll('[data-test=banners] button[aria-label=Dismiss]').forEach((b) => b.click())`);
        await expect.poll(() => page.locator('[data-test=banners] .banner').count()).toBe(0);
        const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}-${width}-${theme}.png`) });

        await page.click('[data-nav=dashboard]');
        await expect.poll(() => page.locator('[data-test=train-loss]').innerText()).toMatch(/^\d\.\d{4}$/);
        await expect(page.locator('[data-test=train-loss-sub]').innerText()).resolves.toBe('epoch 6 mean');
        await expect(page.locator('[data-test=progress-legend]').innerText()).resolves.toMatch(/run 100% · step 36 of 36\s+epoch 6: 100% · step 6 of 6/);
        await expect(page.locator('[data-test=export]').isVisible()).resolves.toBe(true);
        const exportBox = (await page.locator('[data-test=export]').boundingBox())!;
        expect(exportBox.x + exportBox.width).toBeLessThanOrEqual(width);
        await expectNoSidewaysScroll('Dashboard');
        await shot('dashboard');

        await page.click('[data-nav=architecture]');
        await nodeClick('conv2_block2');
        await expect.poll(() => page.locator('[data-test=inspector]').count(), { timeout: 10_000 }).toBe(1);
        await expect(page.locator('[data-test=graph-legend]').innerText()).resolves.toContain('contribution');
        await expectNoSidewaysScroll('Architecture');
        await shot('architecture-layer');
        await nodeClick('block2');
        await expect.poll(() => page.locator('[data-test=block-inspector] [data-test=schematic]').getAttribute('data-kind')).toBe('block');
        await shot('architecture-block');

        await page.click('[data-nav=contributions]');
        await expect.poll(() => page.locator('[data-test=heatmaps] canvas').count()).toBe(2);
        await expectNoSidewaysScroll('Contributions');
        await shot('contributions');

        await page.click('[data-nav=evaluation]');
        await expect.poll(() => page.locator('table.confusion').count()).toBe(1);
        await expectNoSidewaysScroll('Evaluation');
        await shot('evaluation');

        await page.click('[data-nav=runs]');
        await expect.poll(() => page.locator('[data-test=open-run]').count()).toBe(1);
        await expectNoSidewaysScroll('Runs');
        await shot('runs');

        await page.click('[data-nav=new]');
        await page.selectOption('[data-test=preset]', 'densenet121');
        await figureLabelsApart();
        await page.click('[data-stage="block1"]');
        await page.click('[data-test=schematic] [data-layer="conv2_block3_concat"] button');
        await expect(page.locator('[data-test=schematic]').getAttribute('data-kind')).resolves.toBe('dense-layer');
        await expectNoSidewaysScroll('New run');
        await page.locator('.content').evaluate((el) => el.scrollTo({ top: 0 }));
        await shot('new-run');
        await page.locator('[data-test=schematic]').scrollIntoViewIfNeeded();
        await shot('new-run-schematic');
        await page.selectOption('[data-test=preset]', 'demo-bc-tiny');
      });
    }
  }
});
