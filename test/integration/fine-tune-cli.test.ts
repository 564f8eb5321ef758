import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The README's fine-tune walkthrough through the real bin, at toy sizes: a folder dataset written by
 * scripts/mnist-folder.mjs, a source run, and a run that starts from it in two phases. Each process
 * gets a fresh run store and torch hub cache.
 */
function run(cmd: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, cmd, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let root: string;
let env: Record<string, string>;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fine-tune-cli-'));
  env = { WORKBENCH_RUNS_DIR: path.join(root, 'runs'), TORCH_HOME: path.join(root, 'torch-home') };
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('fine-tune walkthrough (real bin)', () => {
  it('writes folder datasets, trains a source, and fine-tunes it on the other digits in two phases', async () => {
    const a = path.join(root, 'digits-a');
    const b = path.join(root, 'digits-b');
    const made = await run(['scripts/mnist-folder.mjs', a, '--digits', '5,6,7', '--train', '12', '--val', '4'], env);
    expect(made.stdout).toBe(`Wrote 36 training and 12 validation images of the digits 5, 6, 7 to ${a}.\n`);
    expect((await run(['scripts/mnist-folder.mjs', b, '--digits', '0,1', '--train', '6', '--val', '4'], env)).code).toBe(0);
    expect(fs.readdirSync(path.join(b, 'train', '0'))).toHaveLength(6);

    const source = await run(['bin/densenet-workbench.mjs', 'train', '--data', a, '--variant', 'demo-bc-tiny', '--epochs', '1', '--batch', '12', '--no-augment', '--name', 'digits-5-9'], env);
    expect(source.code, source.stderr).toBe(0);

    const ft = await run(['bin/densenet-workbench.mjs', 'train', '--data', b, '--start-from', 'digits-5-9', '--epochs', '2', '--head-epochs', '1', '--batch', '6', '--lr', '0.1', '--no-augment', '--name', 'fine-tuned'], env);
    expect(ft.code, ft.stderr).toBe(0);
    expect(ft.stdout).toMatch(/Starting from Run digits-5-9: demo-bc-tiny \(blocks \[2, 2, 2\], k=8, .*\) trained on digits-a at 28×28×\d, 3 classes\./);
    expect(ft.stdout).toContain('a new classifier for 2 classes replaces the weights\' 3-class one.');
    expect(ft.stdout).toContain('Fine-tuning: the classifier alone for 1 epoch at lr 0.1, then every layer at lr 0.01 (batch norms update their statistics).');
    expect(ft.stdout).toMatch(/Starting from run .*, checkpoint step-\d+ \(step \d+\), with a new classifier for 2 classes\./);
    expect(ft.stdout).toContain('Fine-tuning phase 1 of 2: only the classifier trains for 1 epoch at learning rate 0.1');
    expect(ft.stdout).toContain('Fine-tuning phase 2 of 2: every layer trains from epoch 2 at learning rate 0.01 (× 0.1) on the cosine schedule');
    expect(ft.stdout).toMatch(/completed at epoch 2/);

    const runs = fs.readdirSync(env.WORKBENCH_RUNS_DIR).map((d) => path.join(env.WORKBENCH_RUNS_DIR, d));
    const tuned = runs.find((d) => JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8')).name === 'fine-tuned')!;
    expect(JSON.parse(fs.readFileSync(path.join(tuned, 'import.json'), 'utf8'))).toMatchObject({ kind: 'run-checkpoint', headReplaced: true });
    expect(JSON.parse(fs.readFileSync(path.join(tuned, 'config.json'), 'utf8')).settings).toMatchObject({ fineTune: { headEpochs: 1, lrFactor: 0.1 }, schedule: 'cosine' });

    // A source of another architecture is refused before any run folder is made.
    const refused = await run(['bin/densenet-workbench.mjs', 'train', '--data', b, '--start-from', 'digits-5-9', '--variant', 'densenet121'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/The architecture of a run that starts from pretrained weights is the weights' own; leave out --variant/);
    expect(fs.readdirSync(env.WORKBENCH_RUNS_DIR)).toHaveLength(2);
  });
});
