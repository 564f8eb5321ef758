import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { data, json, ok, readJson, sb, shapes, trained, userError } from './sandbox';

/** The CLI's help, the variants and the architecture summary, datasets (scan), and training: train, Ctrl-C, resume. */
export function datasetAndTrainingCommands(): void {
  it('--help lists every subcommand the README names', async () => {
    const r = await sb.cli(['--help']);
    ok(r, '--help');
    for (const c of ['variants', 'summary', 'scan', 'train', 'resume', 'eval', 'runs', 'inspect', 'export', 'report', 'import', 'predict', 'bench', 'serve']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    }
  });

  it('variants and summary print the presets and DenseNet-121\'s volumes', async () => {
    const [variants, summary, custom, bad] = await Promise.all([
      sb.cli(['variants']),
      sb.cli(['summary', '--variant', 'densenet121']),
      sb.cli(['summary', '--variant', 'densenet121', '--blocks', '6,12,24,16', '--growth-rate', '32', '--no-bottleneck', '--compression', '0.5', '--init-features', '64', '--stem', 'imagenet', '--drop-rate', '0.2']),
      sb.cli(['summary', '--variant', 'densenet121', '--compression', '1.5']),
    ]);
    ok(variants, 'variants');
    expect(variants.stdout).toMatch(/demo-bc-tiny/);
    expect(variants.stdout).toMatch(/densenet-bc-100-12/);
    ok(summary, 'summary');
    for (const v of ['56×56×64', '56×56×256', '28×28×128', '28×28×512', '14×14×256', '14×14×1024', '7×7×512', '7×7×1024']) expect(summary.stdout).toContain(v);
    expect(summary.stdout).toMatch(/Parameters: 7\.98 M trainable \(7,978,856\)/);
    ok(custom, 'summary --blocks …');
    expect(custom.stdout).toMatch(/\(custom\).*\n.*no bottleneck.*dropout 0\.2/);
    userError(bad, /Compression θ must be in \(0, 1\]; got 1\.5\./);
  });

  it('scan decodes every image and skips the truncated JPEG; --quick reads headers only and says so', async () => {
    const [full, quick, asJson, missing] = await Promise.all([
      sb.cli(['scan', data, '--input', '32x32x3']),
      sb.cli(['scan', data, '--quick']),
      sb.cli(['scan', data, '--json']),
      sb.cli(['scan', path.join(sb.work, 'nowhere')]),
    ]);
    ok(full, 'scan');
    expect(full.stdout).toMatch(/3 classes, 27 images\./);
    expect(full.stdout).toMatch(/Image sizes \(W×H\): 12×12: 21, 10×10: 6\./);
    expect(full.stdout).toMatch(/red\/cut\.jpg is corrupt or truncated/);
    expect(full.stdout).toMatch(/blue\/empty\.png is empty \(0 bytes\)/);
    ok(quick, 'scan --quick');
    expect(quick.stdout).toMatch(/3 classes, 28 images \(headers only; run without --quick to decode every image\)\./);
    ok(asJson, 'scan --json');
    expect(json(asJson)).toMatchObject({ classes: ['blue', 'green', 'red'], counts: [9, 9, 9], modes: { gray: 0, color: 27 }, verified: true, sizes: { '12x12': 21, '10x10': 6 } });
    expect(missing.code).toBe(2);
    expect(missing.stdout + missing.stderr).toMatch(/nowhere/);
  });

  it('train takes the input from the images, names the skipped files, and keeps the last 3 checkpoints plus the best', () => {
    const out = trained.stdout;
    expect(out).toMatch(new RegExp(`training demo-bc-tiny on ${data.replace(/[/.]/g, '\\$&')} \\(7 epochs, batch 3, sgd lr 0\\.1, multistep\\) as run ${shapes.id}`));
    // From the headers (the truncated JPEG's is intact); the trainer then decodes and skips it.
    expect(out).toContain('Input 12×12×3: the most common image size, 12×12 (21 of 28 image headers); RGB, since the images are in colour. Give --input to choose another.');
    expect(out).toMatch(/warn: 2 files were skipped and are not trained on \(27 images are used\): .*empty\.png is empty.*cut\.jpg is corrupt or truncated/);
    expect(out).toMatch(/epoch 7\/7: .* lr 0\.001, /);
    expect(out).not.toMatch(/0\.0100000|0\.00100000/);
    expect(out).toMatch(/completed at epoch 7, step 56;/);
    for (const f of ['config.json', 'metrics.jsonl', 'status.json', 'summary.json']) expect(fs.existsSync(path.join(shapes.dir, f)), f).toBe(true);
    const config = readJson<{ model: { inputShape: number[] }; dataset: { trainSize: number; valSize: number } }>(path.join(shapes.dir, 'config.json'));
    expect(config.model.inputShape).toEqual([12, 12, 3]);
    expect(config.dataset.trainSize + config.dataset.valSize).toBe(27);
    const summary = readJson<{ best: { step: number } }>(path.join(shapes.dir, 'summary.json'));
    const manifests = fs.readdirSync(path.join(shapes.dir, 'checkpoints')).filter((f) => f.endsWith('.json')).sort();
    const last3 = ['step-000000040.json', 'step-000000048.json', 'step-000000056.json'];
    expect(manifests).toEqual([...new Set([`step-${String(summary.best.step).padStart(9, '0')}.json`, ...last3])].sort());
  });

  it('the demo (train with no arguments) trains demo-bc-tiny on Fashion-MNIST; Ctrl-C stops it with a checkpoint', async () => {
    const demo = sb.start(['train'], { timeoutMs: 240_000 });
    await demo.waitFor(/epoch 1\/2 step \d+\/\d+ loss/, { timeoutMs: 200_000 });
    const r = await demo.stop('SIGINT');
    ok(r, 'train (demo)');
    expect(r.stdout).toMatch(/^Demo: training demo-bc-tiny on fashion-mnist \(2 epochs, batch 128, sgd lr 0\.1, cosine\) as run \S+\n/);
    expect(r.stdout).toContain('Input 28×28×1: the images\' size, 28×28; grayscale, since every image is.');
    expect(r.stdout).toMatch(/Run (\S+) stopped at epoch 0, step \d+;/);
    const id = /Run (\S+) stopped/.exec(r.stdout)![1];
    expect(fs.readdirSync(path.join(sb.runs, id, 'checkpoints')).some((f) => f.endsWith('.json'))).toBe(true);
  });

  it('train --variant densenet-bc-100-12 --data DIR --epochs 300 --batch 64 starts the paper\'s net on the folder', async () => {
    const bc = sb.start(['train', '--variant', 'densenet-bc-100-12', '--data', data, '--epochs', '300', '--batch', '64', '--name', 'bc100'], { timeoutMs: 200_000 });
    await bc.waitFor(/epoch 1\/300 step 1\/1 loss/, { timeoutMs: 180_000 });
    const r = await bc.stop('SIGINT');
    ok(r, 'train --variant densenet-bc-100-12');
    expect(r.stdout).toMatch(/training densenet-bc-100-12 on .* \(300 epochs, batch 64, sgd lr 0\.1, multistep\)/);
    expect(r.stdout).toContain('Input 12×12×3: the most common image size');
    expect(r.stdout).toMatch(/Run \S+ stopped at epoch \d+, step \d+;/);
  });

  it('train takes the custom-architecture flags summary takes', async () => {
    const r = await sb.cli(['train', '--data', data, '--epochs', '1', '--batch', '8', '--blocks', '2,2', '--growth-rate', '4', '--no-bottleneck', '--compression', '1', '--init-features', '8', '--stem', 'cifar', '--drop-rate', '0.1', '--name', 'custom'], { timeoutMs: 300_000 });
    ok(r, 'train --blocks …');
    expect(r.stdout).toMatch(/training custom on /);
    const id = /as run (\S+)/.exec(r.stdout)![1];
    expect(readJson<{ model: object }>(path.join(sb.runs, id, 'config.json')).model).toMatchObject({ variant: 'custom', blocks: [2, 2], growthRate: 4, bottleneck: false, compression: 1, initFeatures: 8, stem: 'cifar', dropRate: 0.1 });
    userError(await sb.cli(['train', '--data', data, '--compression', '0']), /Compression θ must be in \(0, 1\]; got 0\./);
  });

  it('Ctrl-C stops a run; resume RUN (by name) continues it to the end', async () => {
    const run = sb.start(['train', '--data', data, '--epochs', '3', '--batch', '8', '--name', 'stop-me', '--json'], { timeoutMs: 300_000 });
    await run.waitFor(/"type":"step"/, { timeoutMs: 300_000 });
    const stopped = await run.stop('SIGINT');
    ok(stopped, 'train (stopped)');
    const finished = stopped.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === 'finished');
    expect(finished).toMatchObject({ reason: 'stopped' });
    const resumed = await sb.cli(['resume', 'stop-me'], { timeoutMs: 300_000 });
    ok(resumed, 'resume');
    expect(resumed.stdout).toMatch(/Resuming run \S+ \(stop-me\), stopped at epoch \d+, step \d+\./);
    expect(resumed.stdout).toMatch(/completed at epoch 3, step 9;/);
  });
}
