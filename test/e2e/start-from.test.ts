import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, hasChromium, ROOT, startBrowserServe, type BrowserServe } from '../support/browser-serve';

/**
 * New run ▸ Start from, end to end in Debian's Chromium against a real `serve`: a source run
 * trained by the real CLI, picked under Another run; the form follows its architecture, the run
 * trains its two fine-tuning phases in a real trainer, and its folder records where it started.
 * Screenshots go to test-results/browser/.
 */
const SHOTS = path.join(ROOT, 'test-results', 'browser');
if (!hasChromium) console.warn(`[start-from e2e] skipped: ${CHROMIUM} not found (apt-get install -y chromium).`);
const work = mkdtempSync(path.join(tmpdir(), 'dwb-e2e-start-'));
let served: BrowserServe | null = null;
let page: Page;

describe.skipIf(!hasChromium)('Start from another run, in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // The source: a tiny DenseNet-BC trained on 60 MNIST digits, through the real CLI.
    const source = spawnSync(process.execPath, [
      'bin/densenet-workbench.mjs', 'train', '--data', 'mnist', '--limit', '60', '--variant', 'demo-bc-tiny', '--blocks', '1,1', '--epochs', '1',
      '--batch', '30', '--name', 'mnist-source', '--runs', path.join(work, 'runs'), '--json',
    ], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(source.status, source.stderr).toBe(0);
    served = await startBrowserServe(work);
    page = await served.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => console.error('[page error]', e.message));
  }, 300_000);

  afterAll(async () => {
    await served?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('adopts the source run, trains both phases and records the start', async () => {
    await page.goto(served!.url);
    await page.getByLabel('MNIST', { exact: true }).check();
    await page.fill('[data-test=limit]', '60');
    await page.locator('[data-test=limit]').dispatchEvent('change');
    await page.locator('[data-test=start-run]').check();
    await expect.poll(() => page.locator('[data-test=start-run-id] option').count(), { timeout: 20_000 }).toBe(2);
    await page.selectOption('[data-test=start-run-id]', { index: 1 });
    await expect.poll(() => page.locator('[data-test=start-from-info]').count(), { timeout: 20_000 }).toBe(1);
    await expect(page.locator('[data-test=start-from-info]').innerText()).resolves.toMatch(/Run mnist-source: custom \(blocks \[1, 1\], k=8/);
    await expect(page.locator('[data-test=blocks]').inputValue()).resolves.toBe('1, 1');
    // The recipe, shortened: 1 classifier-only epoch, then 1 of every layer.
    for (const [field, value] of [['epochs', '2'], ['batch', '30'], ['head-epochs', '1']]) {
      await page.fill(`[data-test=${field}]`, value);
      await page.locator(`[data-test=${field}]`).dispatchEvent('change');
    }
    await page.selectOption('[data-test=backend]', 'wasm');
    await expect(page.locator('[data-test=fine-tune-plan]').innerText()).resolves.toMatch(/^Epoch 1: only the classifier.*Epoch 2: every layer/s);
    await page.screenshot({ path: path.join(SHOTS, 'start-from-run.png'), fullPage: true });

    await page.click('[data-test=start]');
    const state = async () => ((await page.locator('[data-test=run-state]').textContent()) ?? '').trim();
    await expect.poll(state, { timeout: 120_000 }).toMatch(/finished|completed/);
    await page.screenshot({ path: path.join(SHOTS, 'start-from-dashboard.png'), fullPage: true });

    const runs = readdirSync(path.join(work, 'runs')).map((d) => path.join(work, 'runs', d));
    const tuned = runs.find((d) => JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8')).settings.fineTune);
    expect(tuned).toBeDefined();
    expect(JSON.parse(readFileSync(path.join(tuned!, 'import.json'), 'utf8'))).toMatchObject({ kind: 'run-checkpoint', headReplaced: false });
    const log = readFileSync(path.join(tuned!, 'metrics.jsonl'), 'utf8');
    expect(log).toContain('Fine-tuning phase 1 of 2');
    expect(log).toContain('Fine-tuning phase 2 of 2');
  });
});
