import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, hasChromium, ROOT, startBrowserServe, type BrowserServe } from '../support/browser-serve';

/**
 * Browser mode end to end: Debian's Chromium, driven by playwright-core, against a real
 * `densenet-workbench serve` that forks a real trainer, on a small MNIST subset with a tiny
 * DenseNet-BC. Screenshots of each screen go to test-results/browser/ (git-ignored).
 */
const SHOTS = path.join(ROOT, 'test-results', 'browser');
if (!hasChromium) console.warn(`[browser e2e] skipped: ${CHROMIUM} not found (apt-get install -y chromium).`);

let served: BrowserServe | null = null;
let page: Page;
let url = '';
/** Points on the loss chart when the run stopped: the reopened run must show them all. */
let stoppedPoints = 0;
const work = mkdtempSync(path.join(tmpdir(), 'dwb-e2e-'));

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
/** One screen at both widths and in both themes, then back to 1280 px light. */
async function shots(name: string): Promise<void> {
  for (const width of [1280, 820]) {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.setViewportSize({ width, height: 1300 });
      await page.emulateMedia({ colorScheme });
      // The screen scrolls inside its content pane: start each shot at its top.
      await page.locator('main.content').evaluate((el) => el.scrollTo(0, 0));
      await page.waitForTimeout(150); // charts and the graph redraw on resize
      await page.screenshot({ path: path.join(SHOTS, `${name}-${width}-${colorScheme}.png`), fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Fills New run with the tiny MNIST setup of this test, `epochs` long. */
async function configure(epochs: number): Promise<void> {
  await page.getByLabel('MNIST', { exact: true }).check();
  for (const [field, value] of [['limit', '160'], ['blocks', '2, 2'], ['k', '4'], ['epochs', String(epochs)], ['batch', '32'], ['stats-every', '2']]) {
    await page.fill(`[data-test=${field}]`, value);
    await page.locator(`[data-test=${field}]`).dispatchEvent('change');
  }
  await page.selectOption('[data-test=backend]', 'wasm');
}
const state = async () => ((await page.locator('[data-test=run-state]').textContent()) ?? '').trim();
const points = async () => Number(await page.locator('[data-test=charts]').getAttribute('data-points'));

describe.skipIf(!hasChromium)('browser mode in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    served = await startBrowserServe(work);
    url = served.url;
    page = await served.browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.on('pageerror', (e) => console.error('[page error]', e.message));
  }, 120_000);

  afterAll(async () => {
    await served?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('1. configures a run and shows its summary', async () => {
    await page.goto(url);
    await page.getByLabel('MNIST', { exact: true }).check();
    await page.fill('[data-test=limit]', '160');
    await page.locator('[data-test=limit]').dispatchEvent('change');
    await page.fill('[data-test=blocks]', '2, 2');
    await page.locator('[data-test=blocks]').dispatchEvent('change');
    await page.fill('[data-test=k]', '4');
    await page.locator('[data-test=k]').dispatchEvent('change');
    for (const [field, value] of [['epochs', '40'], ['batch', '32'], ['stats-every', '2']]) {
      await page.fill(`[data-test=${field}]`, value);
      await page.locator(`[data-test=${field}]`).dispatchEvent('change');
    }
    await page.selectOption('[data-test=backend]', 'wasm');
    await page.click('[data-test=scan]');
    await expect.poll(() => page.locator('[data-test=scan-report]').count(), { timeout: 30_000 }).toBe(1);
    await expect(page.locator('[data-test=scan-report]').innerText()).resolves.toMatch(/160\s+images in\s+10\s+classes/);
    // Live summary of the custom architecture: 2 blocks of 2 layers, k=4.
    await expect(page.locator('[data-test=summary]').innerText()).resolves.toMatch(/Dense block 2/);
    const params = await page.locator('[data-test=params]').innerText();
    expect(params).toMatch(/^\d/);
    await shot('1-new-run');
  });

  it('2. starts it and sees the curves gain points', async () => {
    await page.click('[data-test=start]');
    await expect.poll(state, { timeout: 30_000 }).toBe('running');
    await expect.poll(points, { timeout: 30_000 }).toBeGreaterThan(2);
    const before = await points();
    await expect.poll(points, { timeout: 30_000 }).toBeGreaterThan(before);
    // Wait for the first epoch end, so contributions and epoch-end stats exist.
    await expect.poll(() => page.locator('[data-test=epoch]').innerText(), { timeout: 60_000 }).toMatch(/^[2-9]\d* \/ 40|^\d{2,} \/ 40/);
    await shot('2-dashboard');
  });

  it('3. pauses and resumes, then stops', async () => {
    await page.click('[data-test=pause]');
    await expect.poll(state, { timeout: 20_000 }).toBe('paused');
    const frozen = await points();
    await page.waitForTimeout(700);
    expect(await points()).toBe(frozen);
    await shot('3-paused');
    await page.click('[data-test=resume]');
    await expect.poll(state, { timeout: 20_000 }).toBe('running');
    await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(frozen);
    await page.click('[data-test=stop]');
    // Stop asks first.
    await page.click('[data-test=confirm-ok]');
    await expect.poll(state, { timeout: 30_000 }).toMatch(/stopped|finished/);
    stoppedPoints = await points();
  });

  it('4. opens the graph and clicks a layer to see its stats', async () => {
    await page.click('[data-nav=architecture]');
    const canvas = page.locator('canvas[data-nodes]');
    await expect.poll(() => canvas.getAttribute('data-edge-count')).toBe('12'); // ℓ(ℓ+1)/2 per block with ℓ = 3 consumers: 6 + 6
    const nodes = JSON.parse((await canvas.getAttribute('data-nodes')) ?? '[]') as { id: string; x: number; y: number }[];
    const target = nodes.find((n) => n.id === 'conv2_block2');
    expect(target).toBeDefined();
    const box = (await canvas.boundingBox())!;
    await page.mouse.click(box.x + target!.x, box.y + target!.y);
    await expect.poll(() => page.locator('[data-test=layer-stats]').count(), { timeout: 10_000 }).toBe(1);
    await expect(page.locator('[data-test=inspector]').innerText()).resolves.toMatch(/Block 1 · layer 2/);
    await shot('4-architecture');
  });

  it('5. opens the contribution heat maps', async () => {
    await page.click('[data-nav=contributions]');
    await expect.poll(() => page.locator('[data-test=heatmaps] canvas').count(), { timeout: 10_000 }).toBe(2);
    const cells = await page.locator('[data-test=heatmaps] canvas').first().getAttribute('data-cells');
    expect(Number(cells)).toBe(6); // block 1: 3 consumers, 1 + 2 + 3 connections
    await shot('5-contributions');
  });

  it('6. reopens the run from history, as it was', async () => {
    await page.reload(); // a fresh page: nothing in memory
    await page.click('[data-nav=runs]');
    await expect.poll(() => page.locator('[data-test=open-run]').count(), { timeout: 10_000 }).toBe(1);
    await shot('6-runs');
    await page.click('[data-test=open-run]');
    await expect.poll(points, { timeout: 10_000 }).toBeGreaterThanOrEqual(stoppedPoints);
    await expect(state()).resolves.toMatch(/stopped|finished/);
    // A stopped run can be continued from its Dashboard.
    if ((await state()) === 'stopped') await expect(page.locator('[data-test=continue]').isVisible()).resolves.toBe(true);
    await shot('6-reopened');
  });
  let finishedRun = '';

  it('7. trains a second run to the end, then opens it from Runs', async () => {
    await page.click('[data-nav=new]');
    // Six epochs of 5 steps: enough for the layers to matter, so the ablation overview has columns to show.
    await configure(6);
    await page.click('[data-test=scan]');
    await expect.poll(() => page.locator('[data-test=scan-report]').count(), { timeout: 30_000 }).toBe(1);
    await page.click('[data-test=start]');
    await expect.poll(state, { timeout: 120_000 }).toMatch(/completed|finished/);
    await page.reload(); // nothing in memory: the finished run comes back from its folder
    await page.click('[data-nav=runs]');
    await expect.poll(() => page.locator('[data-test=open-run]').count(), { timeout: 10_000 }).toBe(2);
    const row = page.locator('tr[data-run]', { has: page.locator('.state-pill[data-state=finished]') });
    finishedRun = (await row.getAttribute('data-run')) ?? '';
    expect(finishedRun).not.toBe('');
    await row.locator('[data-test=open-run]').click();
    await expect(state()).resolves.toMatch(/finished|completed/);
  });

  it('8. shows its evaluation with a confusion matrix, and the ablation overview of every layer', async () => {
    await page.click('[data-nav=evaluation]');
    // The trainer evaluated the run as it ended, on its last checkpoint: no button to press.
    await expect.poll(() => page.locator('[data-test=eval-accuracy]').count(), { timeout: 10_000 }).toBe(1);
    await expect(page.locator('table.confusion').isVisible()).resolves.toBe(true);
    await expect(page.locator('[data-test=eval-source]').innerText()).resolves.toMatch(/validation split · step 30 · checkpoint step-000000030/);
    // Evaluate now, from the best checkpoint: recorded in the run and shown in its place.
    await page.click('[data-test=evaluate]');
    await expect.poll(() => page.locator('[data-test=banners]').innerText(), { timeout: 60_000 }).toMatch(/The evaluation arrived/);
    expect(await page.locator('[data-test=inspect-evaluation-error]').count()).toBe(0);
    await expect(page.locator('[data-test=eval-source]').innerText()).resolves.toMatch(/checkpoint step-0+[1-9]\d*$/);
    const mistakes = page.locator('[data-test=misclassified] li');
    if ((await mistakes.count()) > 0) await expect(mistakes.first().innerText()).resolves.toMatch(/mnist \w+ #\d+/);
    await page.click('[data-test=run-ablation]');
    await expect.poll(() => page.locator('[data-test=ablation-overview]').getAttribute('data-bars'), { timeout: 120_000 }).toBe('4');
    await shots('8-evaluation-finished');
  });

  it('9. computes activation maps of the finished run from its checkpoint', async () => {
    await page.click('[data-nav=architecture]');
    const canvas = page.locator('canvas[data-nodes]');
    await expect.poll(() => canvas.getAttribute('data-edge-count')).toBe('12');
    const nodes = JSON.parse((await canvas.getAttribute('data-nodes')) ?? '[]') as { id: string; x: number; y: number }[];
    const target = nodes.find((n) => n.id === 'conv2_block2')!;
    const box = (await canvas.boundingBox())!;
    await page.mouse.click(box.x + target.x, box.y + target.y);
    await page.fill('[data-test=activation-sample]', '3');
    await page.click('[data-test=request-activations]');
    await expect.poll(() => page.locator('[data-test=activation-maps] img').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await expect(page.locator('[data-test=activation-maps]').innerText()).resolves.toMatch(/Image 3 .*checkpoint step-\d+/);
    await shots('9-architecture-finished');
  });

  it('10. exports it as ONNX and downloads the export as a zip', async () => {
    await page.click('[data-nav=dashboard]');
    await page.getByRole('button', { name: 'Export…' }).click();
    await page.locator('[role=dialog] select').first().selectOption('onnx');
    await page.locator('[role=dialog] button.primary').click();
    await expect.poll(() => page.locator('[data-test=download-zip], [role=dialog] .inline-error').count(), { timeout: 60_000 }).toBe(1);
    // An export error would be shown in the dialog: say it rather than time out.
    expect(await page.locator('[role=dialog] .inline-error').count(), await page.locator('[role=dialog]').innerText()).toBe(0);
    await shots('10-export-download');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=download-zip]')]);
    expect(download.suggestedFilename()).toBe(`${finishedRun}-onnx.zip`);
    const saved = path.join(work, 'download.zip');
    await download.saveAs(saved);
    const files = unzipSync(new Uint8Array(readFileSync(saved)));
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['model.onnx', 'preprocessing.json']));
    expect(JSON.parse(Buffer.from(files['preprocessing.json']).toString())).toMatchObject({ classes: expect.any(Array) });
    const [one] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=download-file]', { hasText: 'model.onnx' }).click()]);
    const onnx = path.join(work, 'model.onnx');
    await one.saveAs(onnx);
    expect(readFileSync(onnx).equals(Buffer.from(files['model.onnx']))).toBe(true);
  });
});
