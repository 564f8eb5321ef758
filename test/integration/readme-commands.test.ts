import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wsCall } from '../support/faults';
import { closedPort, startWeightsServer } from '../support/weights-server';
import { CliSandbox, ROOT, describeInvocation, readmeCommands, type Result } from '../support/cli-process';

/**
 * Every command the README shows, run as a user runs it: a real process through
 * bin/densenet-workbench.mjs (or npm / npx), in a fresh environment (its own HOME, run store in
 * WORKBENCH_RUNS_DIR, working folder), on tiny data: a folder of RGB images made with sharp, with
 * a truncated JPEG and an empty file planted in it, and the built-in Fashion-MNIST for the demo.
 * Each test checks the exit code, the files written and what is printed. One small run, trained
 * once, is shared by the commands that read a run (eval, inspect, export, report, predict), as a
 * user would reuse theirs. The last test checks that every command line of the README, with
 * every flag it shows, was run here (or is listed below as impossible here, with why).
 */
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** README commands that cannot run inside this suite, and why. */
const NOT_RUN_HERE: Record<string, string> = {
  'npm install': 'installs dependencies from the registry; the suite runs on an installed checkout',
  'npm ci': 'reinstalls node_modules from the registry',
  'npm test': 'runs this suite itself',
  'npm run test:faults': 'the fault suite, run on its own (npm run test:faults)',
  'npm run test:unit': 'runs this suite itself',
  'npm run dev': 'needs Electron\'s binary and a display',
  'npm run dist': 'downloads Electron for each target platform',
  'npm rebuild': 'rebuilds a native GPU package (CUDA 11.2 and cuDNN 8.1)',
  'npm start': 'the desktop app needs Electron\'s binary and a display; its browser-mode fallback is test/e2e/electron-start.test.ts, and `npm start -- --browser` runs here',
  'node node_modules/electron/install.js': 'downloads Electron\'s binary',
  'npx vitest': 'runs the fault suite (npm run test:faults)',
};

const sb = new CliSandbox('wb-readme-');
const data = path.join(sb.work, 'shapes');
const img = (name: string) => path.join(sb.work, name);
let shapes: { id: string; dir: string };
/** Settled by the export test; predict runs on its exports. */
let markExported: (ok: boolean) => void;
const exported = new Promise<boolean>((resolve) => (markExported = resolve));

/** Three colour classes, 9 images each: 7 of 12×12 and 2 of 10×10, plus the two bad files. */
async function makeShapes(): Promise<void> {
  const colours: Record<string, [number, number, number]> = { red: [220, 30, 30], green: [30, 200, 40], blue: [30, 40, 220] };
  for (const [cls, rgb] of Object.entries(colours)) {
    fs.mkdirSync(path.join(data, cls), { recursive: true });
    for (let i = 0; i < 9; i++) {
      const s = i < 7 ? 12 : 10;
      const px = Buffer.alloc(s * s * 3);
      for (let p = 0; p < s * s; p++) for (let k = 0; k < 3; k++) px[p * 3 + k] = Math.max(0, Math.min(255, rgb[k] + ((p * 7 + i * 13 + k * 5) % 41) - 20));
      const image = sharp(px, { raw: { width: s, height: s, channels: 3 } });
      await (i % 3 === 0 ? image.jpeg({ quality: 95 }) : image.png()).toFile(path.join(data, cls, `${i}.${i % 3 === 0 ? 'jpg' : 'png'}`));
    }
  }
  // A JPEG cut short: its header is intact, so only decoding catches it.
  const noise = Buffer.alloc(48 * 48 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 37) % 251;
  const jpeg = await sharp(noise, { raw: { width: 48, height: 48, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  fs.writeFileSync(path.join(data, 'red', 'cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
  fs.writeFileSync(path.join(data, 'blue', 'empty.png'), '');
  // Images to predict on and to inspect activations of, outside the dataset.
  await sharp(Buffer.alloc(12 * 12 * 3, 0).map((_, i) => (i % 3 === 0 ? 220 : 30)), { raw: { width: 12, height: 12, channels: 3 } }).png().toFile(img('red.png'));
  await sharp(Buffer.alloc(16 * 16 * 3, 0).map((_, i) => (i % 3 === 2 ? 220 : 30)), { raw: { width: 16, height: 16, channels: 3 } }).jpeg().toFile(img('blue.jpg'));
}

function ok(r: Result, what: string): void {
  expect(r.code, `${what} exited ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  expect(r.stdout + r.stderr).not.toMatch(/Hi, looks like you are running TensorFlow\.js|internal error|EPIPE/);
}

function userError(r: Result, message: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

const json = <T = Record<string, unknown>>(r: Result): T => JSON.parse(r.stdout) as T;
const readJson = <T = Record<string, unknown>>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const isPng = async (file: string) => (await sharp(file).metadata()).format === 'png';

beforeAll(async () => {
  await makeShapes();
  // The shared run: 24 training images at batch 3 for 7 epochs, so 56 steps (gradient flow is recorded every 50).
  const r = await sb.cli(['train', '--data', data, '--epochs', '7', '--batch', '3', '--name', 'shapes', '--seed', '1'], { timeoutMs: 240_000 });
  ok(r, 'train');
  const id = /as run (\S+)/.exec(r.stdout)![1];
  shapes = { id, dir: path.join(sb.runs, id) };
  trained = r;
}, 300_000);
let trained: Result;

afterAll(() => sb.cleanup());

// Independent processes run side by side (vitest's maxConcurrency, 5): the suite waits mostly on
// process start-up and model building, not on one core.
describe.concurrent('the README\'s commands, through the real binary', { timeout: 360_000 }, () => {
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

  it('runs lists the default store, and takes --runs (and the old --out)', async () => {
    const [byEnv, byFlag, asJson, legacy, empty] = await Promise.all([
      sb.cli(['runs']),
      sb.cli(['runs', '--runs', sb.runs], { env: { WORKBENCH_RUNS_DIR: '' } }),
      sb.cli(['runs', '--json']),
      sb.cli(['runs', '--out', sb.runs], { env: { WORKBENCH_RUNS_DIR: '' } }),
      sb.cli(['runs', '--runs', path.join(sb.work, 'no-runs')]),
    ]);
    for (const [r, what] of [[byEnv, 'runs'], [byFlag, 'runs --runs'], [legacy, 'runs --out']] as const) {
      ok(r, what);
      expect(r.stdout).toMatch(new RegExp(`${shapes.id}\\s+shapes\\s+finished\\s+7/7 \\(100%\\)`));
    }
    ok(asJson, 'runs --json');
    expect(json<{ id: string; status: string }[]>(asJson).find((x) => x.id === shapes.id)).toMatchObject({ status: 'finished' });
    ok(empty, 'runs (empty)');
    expect(empty.stdout).toMatch(/^No runs under .*no-runs\.$/m);
  });

  it('eval RUN prints accuracy, per-class precision and recall and the confusion matrix; --data and --json too', async () => {
    const [text, asJson, other] = await Promise.all([
      sb.cli(['eval', shapes.id]),
      sb.cli(['eval', 'shapes', '--json']),
      sb.cli(['eval', shapes.dir, '--data', data, '--json']),
    ]);
    ok(text, 'eval');
    expect(text.stdout).toMatch(new RegExp(`Run ${shapes.id}, checkpoint step-\\d{9} \\(step \\d+\\), validation split: 3 images, accuracy`));
    expect(text.stdout).toMatch(/Confusion matrix \(rows: true class/);
    ok(asJson, 'eval --json');
    expect(json(asJson)).toMatchObject({ run: shapes.id, data: 'validation split', samples: 3, classes: ['blue', 'green', 'red'] });
    ok(other, 'eval --data');
    expect(json(other)).toMatchObject({ samples: 27 });
  });

  it('inspect RUN writes JSON, heat maps and activation sheets for every kind of inspection', async () => {
    const out = path.join(sb.work, 'inspect');
    const r = await sb.cli(['inspect', 'shapes', '--checkpoint', 'best', '--contributions', '--stats', '--activations', img('red.png'), '--ablation', '--evaluation', '--gradients', '--out', out], { timeoutMs: 300_000 });
    ok(r, 'inspect');
    expect(r.stdout).toMatch(/Layer statistics at step \d+/);
    expect(r.stdout).toMatch(/Block 1 contributions/);
    expect(r.stdout).toMatch(/Activation maps of sample 0 \(red\.png\)/);
    expect(r.stdout).toMatch(/Layer ablation: baseline validation accuracy/);
    expect(r.stdout).toMatch(/Validation accuracy .*%\./);
    expect(r.stdout).toMatch(/Gradient flow at step 50:/);
    for (const f of ['stats.json', 'contributions.json', 'activations.json', 'ablation.json', 'evaluation.json', 'gradients.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    for (const b of [1, 2, 3]) expect(await isPng(path.join(out, `contributions-block${b}.png`))).toBe(true);
    expect(await isPng(path.join(out, 'gradients.png'))).toBe(true);
    const sheets = fs.readdirSync(path.join(out, 'activations'));
    expect(sheets).toContain('conv2_block1.png');
    for (const s of sheets) expect(await isPng(path.join(out, 'activations', s))).toBe(true);

    const [bySample, asJson, latest] = await Promise.all([
      sb.cli(['inspect', shapes.id, '--activations', '1', '--out', path.join(sb.work, 'inspect-1')]),
      sb.cli(['inspect', shapes.id, '--contributions', '--json', '--out', path.join(sb.work, 'inspect-json')]),
      sb.cli(['inspect', shapes.id, '--checkpoint', 'latest', '--stats', '--out', path.join(sb.work, 'inspect-latest')]),
    ]);
    ok(bySample, 'inspect --activations N');
    expect(bySample.stdout).toMatch(/Activation maps of sample 1/);
    ok(asJson, 'inspect --json');
    expect(JSON.parse(asJson.stdout.trim().split('\n')[0])).toMatchObject({ type: 'contributions', runId: shapes.id });
    ok(latest, 'inspect --checkpoint latest');
    expect(readJson<{ step: number }>(path.join(sb.work, 'inspect-latest', 'stats.json')).step).toBe(56);
    userError(await sb.cli(['inspect', shapes.id]), /Say what to inspect/);
  });

  it('export writes ONNX (BN folded, NHWC), TF.js and torchvision with preprocessing.json; best is the best epoch\'s checkpoint', async () => {
    try {
      await exportAll();
      markExported(true);
    } catch (err) {
      markExported(false);
      throw err;
    }
  });

  async function exportAll(): Promise<void> {
    const onnxDir = path.join(sb.work, 'onnx');
    const tfjsDir = path.join(sb.work, 'tfjs');
    const torchvisionDir = path.join(sb.work, 'torchvision');
    const [onnx, tfjs, latest, torchvision] = await Promise.all([
      sb.cli(['export', 'shapes', '--format', 'onnx', '--fold-bn', '--layout', 'NHWC', '--out', onnxDir, '--checkpoint', 'best']),
      sb.cli(['export', shapes.id, '--format', 'tfjs', '--out', tfjsDir]),
      sb.cli(['export', shapes.id, '--format', 'onnx', '--checkpoint', 'latest']),
      sb.cli(['export', 'shapes', '--format', 'torchvision', '--out', torchvisionDir]),
    ]);
    const best = readJson<{ best: { step: number } }>(path.join(shapes.dir, 'summary.json')).best.step;
    ok(onnx, 'export onnx');
    expect(onnx.stdout).toMatch(new RegExp(`Exported demo-bc-tiny \\(step-\\d{9}, step ${best}\\) as ONNX opset 13, batch norms folded to ${onnxDir}`));
    expect(fs.statSync(path.join(onnxDir, 'model.onnx')).size).toBeGreaterThan(10_000);
    expect(readJson(path.join(onnxDir, 'preprocessing.json'))).toMatchObject({ input: { layout: 'NHWC', height: 12, width: 12, channels: 3 }, classes: ['blue', 'green', 'red'], source: { step: best } });
    ok(tfjs, 'export tfjs');
    for (const f of ['model.json', 'weights.bin', 'preprocessing.json']) expect(fs.existsSync(path.join(tfjsDir, f)), f).toBe(true);
    ok(latest, 'export --checkpoint latest');
    expect(readJson(path.join(shapes.dir, 'exports', 'onnx', 'preprocessing.json'))).toMatchObject({ source: { step: 56 } });
    ok(torchvision, 'export torchvision');
    for (const f of ['model.safetensors', 'load_densenet.py', 'preprocessing.json']) expect(fs.existsSync(path.join(torchvisionDir, f)), f).toBe(true);
  }

  it('report RUN writes a self-contained HTML report and the metrics CSV', async () => {
    const file = path.join(sb.work, 'report.html');
    const [r, byDefault] = await Promise.all([sb.cli(['report', 'shapes', '--out', file]), sb.cli(['report', shapes.id])]);
    ok(r, 'report');
    expect(r.stdout).toBe(`Report: ${file}\nMetrics CSV: ${file.replace(/\.html$/, '.csv')}\n`);
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toMatch(/<h2>Final metrics<\/h2>/);
    expect(html).toMatch(/Final learning rate<\/th><td>0\.001</);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(fs.readFileSync(file.replace(/\.html$/, '.csv'), 'utf8').split('\n')[0]).toMatch(/^type,step,epoch/);
    ok(byDefault, 'report (default)');
    expect(fs.existsSync(path.join(shapes.dir, 'report.html'))).toBe(true);
  });

  it('predict classifies images with the run and its TF.js, ONNX and torchvision exports alike', async () => {
    expect(await exported, 'the export test failed, so there is nothing to predict with').toBe(true);
    const images = [img('red.png'), img('blue.jpg')];
    const [run, tfjs, onnx, torchvision, text] = await Promise.all([
      sb.cli(['predict', 'shapes', ...images, '--top', '2', '--json']),
      sb.cli(['predict', path.join(sb.work, 'tfjs'), ...images, '--top', '5', '--json']),
      sb.cli(['predict', path.join(sb.work, 'onnx'), ...images, '--json']),
      sb.cli(['predict', path.join(sb.work, 'torchvision'), ...images, '--json']),
      sb.cli(['predict', shapes.dir, images[0]]),
    ]);
    type P = { kind: string; predictions: { file: string; top: { label: string; probability: number }[]; logits: number[] }[] };
    for (const [r, what] of [[run, 'predict run'], [tfjs, 'predict tfjs'], [onnx, 'predict onnx'], [torchvision, 'predict torchvision'], [text, 'predict']] as const) ok(r, what);
    const [a, b, c, d] = [json<P>(run), json<P>(tfjs), json<P>(onnx), json<P>(torchvision)];
    expect([a.kind, b.kind, c.kind, d.kind]).toEqual(['run', 'tfjs-layers', 'onnx', 'torchvision']);
    expect(a.predictions[0].top).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      expect(b.predictions[i].top[0].label).toBe(a.predictions[i].top[0].label);
      expect(c.predictions[i].top[0].label).toBe(a.predictions[i].top[0].label);
      expect(d.predictions[i].top[0].label).toBe(a.predictions[i].top[0].label);
      // The ONNX export folds batch norms; TF.js is the run's own graph.
      a.predictions[i].logits.forEach((v, k) => expect(Math.abs(v - b.predictions[i].logits[k])).toBeLessThan(1e-4));
    }
    expect(text.stdout).toMatch(/red\.png\n\s+\d+\.\d\d%\s+(red|green|blue)\n/);
  });

  it('download fetches weights into the torch hub cache; import --weights makes a run of them that resume fine-tunes; import --pretrained says what to do offline', async () => {
    // A loopback mirror: no test reaches the internet. The file's name carries its sha256 prefix, as torchvision's do.
    const body = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'pth', 'tiny_densenet.pth'));
    const name = `tiny-${crypto.createHash('sha256').update(body).digest('hex').slice(0, 8)}.pth`;
    const mirror = await startWeightsServer({ [name]: body });
    const torchHome = { TORCH_HOME: path.join(sb.home, 'torch') };
    try {
      const [list, fetched] = await Promise.all([sb.cli(['download', '--list', '--json'], { env: torchHome }), sb.cli(['download', mirror.url(name), '--json'], { env: torchHome })]);
      ok(list, 'download --list');
      expect(list.stdout).toMatch(/densenet121-a639ec97\.pth/);
      ok(fetched, 'download URL');
      const file = path.join(sb.home, 'torch', 'hub', 'checkpoints', name);
      expect(json(fetched)).toMatchObject({ file, cached: false, bytes: body.length });

      const out = path.join(sb.runs, 'ft');
      const r = await sb.cli(['import', '--weights', file, '--variant', 'auto', '--input', '32x32x3', '--data', data, '--freeze-features', '--epochs', '1', '--out', out]);
      ok(r, 'import');
      expect(r.stdout).toMatch(/^Imported custom \(blocks \[2, 2\], k=4, input 32×32×3, 3 classes\) into /m);
      expect(r.stdout).toMatch(/Features frozen: \d[\d,]* of [\d,]+ parameters train\./);
      const resumed = await sb.cli(['resume', out], { timeoutMs: 300_000 });
      ok(resumed, 'resume (import)');
      expect(resumed.stdout).toMatch(/Feature layers are frozen/);
      expect(resumed.stdout).toMatch(/completed at epoch 1, step \d+;/);

      // torchvision's own weights are 30 MB from download.pytorch.org: offline, the error says where to put them.
      const offline = { ...torchHome, WORKBENCH_WEIGHTS_URL_BASE: `http://127.0.0.1:${await closedPort()}/models/` };
      const pretrained = await sb.cli(['import', '--pretrained', 'densenet121', '--data', data, '--out', path.join(sb.runs, 'ft-121')], { env: offline });
      userError(pretrained, /Cannot reach 127\.0\.0\.1:\d+ to download .*densenet121-a639ec97\.pth \(ECONNREFUSED\)\. Without internet, download .* and copy it to .*hub\/checkpoints\/densenet121-a639ec97\.pth/);
      expect(fs.existsSync(path.join(sb.runs, 'ft-121'))).toBe(false);
    } finally {
      await mirror.close();
    }
  });

  it('the fine-tune walkthrough: folder datasets from mnist-folder.mjs, a source run, runs that start from it in two phases or from scratch; train --pretrained says what to do offline', async () => {
    const a = path.join(sb.work, 'digits-a');
    const b = path.join(sb.work, 'digits-b');
    const [madeA, madeB] = await Promise.all([
      sb.start(['scripts/mnist-folder.mjs', a, '--digits', '5,6,7', '--train', '12', '--val', '4'], { program: 'node', cwd: ROOT }).exited,
      sb.start(['scripts/mnist-folder.mjs', b, '--digits', '0,1', '--train', '6', '--val', '4'], { program: 'node', cwd: ROOT }).exited,
    ]);
    ok(madeA, 'mnist-folder.mjs');
    expect(madeA.stdout).toBe(`Wrote 36 training and 12 validation images of the digits 5, 6, 7 to ${a}.\n`);
    ok(madeB, 'mnist-folder.mjs');
    const source = await sb.cli(['train', '--data', a, '--variant', 'demo-bc-tiny', '--epochs', '1', '--batch', '12', '--lr', '0.1', '--schedule', 'cosine', '--no-augment', '--name', 'digits-5-9'], { timeoutMs: 240_000 });
    ok(source, 'train (source)');
    const [tuned, scratch] = await Promise.all([
      sb.cli(['train', '--data', b, '--start-from', 'digits-5-9', '--epochs', '2', '--head-epochs', '1', '--batch', '6', '--lr', '0.1', '--no-augment', '--seed', '1', '--name', 'fine-tuned'], { timeoutMs: 240_000 }),
      sb.cli(['train', '--data', b, '--variant', 'demo-bc-tiny', '--epochs', '2', '--batch', '6', '--lr', '0.1', '--schedule', 'cosine', '--no-augment', '--seed', '1', '--name', 'scratch'], { timeoutMs: 240_000 }),
    ]);
    ok(tuned, 'train --start-from RUN');
    expect(tuned.stdout).toMatch(/Fine-tuning phase 1 of 2: only the classifier trains for 1 epoch at learning rate 0\.1[\s\S]*Fine-tuning phase 2 of 2: every layer trains from epoch 2 at learning rate 0\.01/);
    ok(scratch, 'train (scratch)');
    expect(scratch.stdout).not.toMatch(/Fine-tuning/);
    const runDirs = fs.readdirSync(sb.runs).map((d) => path.join(sb.runs, d)).filter((d) => fs.existsSync(path.join(d, 'config.json')));
    const tunedDir = runDirs.find((d) => readJson<{ name: string }>(path.join(d, 'config.json')).name === 'fine-tuned')!;
    expect(readJson(path.join(tunedDir, 'import.json'))).toMatchObject({ kind: 'run-checkpoint', headReplaced: true });
    expect(readJson<{ settings: object }>(path.join(tunedDir, 'config.json')).settings).toMatchObject({ fineTune: { headEpochs: 1, lrFactor: 0.1, freezeBatchNorm: false }, schedule: 'cosine' });
    // The weights decide the architecture: another one is refused before any run folder is made.
    // (In a store of its own holding only the source run: other tests write runs meanwhile.)
    const store = path.join(sb.work, 'refused-store');
    const sourceDir = runDirs.find((d) => readJson<{ name: string }>(path.join(d, 'config.json')).name === 'digits-5-9')!;
    fs.cpSync(sourceDir, path.join(store, path.basename(sourceDir)), { recursive: true });
    userError(await sb.cli(['train', '--data', b, '--start-from', 'digits-5-9', '--variant', 'densenet121', '--runs', store]), /The architecture of a run that starts from pretrained weights is the weights' own; leave out --variant/);
    expect(fs.readdirSync(store)).toEqual([path.basename(sourceDir)]);
    // The latest checkpoint, the other phase settings, and the batch-norm statistics kept.
    const latest = await sb.cli(['train', '--data', b, '--start-from', 'digits-5-9', '--checkpoint', 'latest', '--head-epochs', '0', '--lr-factor', '0.5', '--freeze-bn', '--epochs', '1', '--batch', '6', '--no-augment'], { timeoutMs: 240_000 });
    ok(latest, 'train --start-from RUN --checkpoint latest');
    expect(latest.stdout).toContain('then every layer at lr 0.005 (batch norms keep their stored statistics).');
    // ImageNet weights come from download.pytorch.org: offline, the error says where to put them.
    const offline = { TORCH_HOME: path.join(sb.home, 'torch'), WORKBENCH_WEIGHTS_URL_BASE: `http://127.0.0.1:${await closedPort()}/models/` };
    userError(await sb.cli(['train', '--data', b, '--pretrained', 'densenet121', '--batch', '16', '--epochs', '10'], { env: offline }), /Cannot reach 127\.0\.0\.1:\d+ to download .*densenet121-a639ec97\.pth \(ECONNREFUSED\)\. Without internet, download /);
  });

  it('bench --steps 1 measures training and forward throughput and says which backend and why', async () => {
    const r = await sb.cli(['bench', '--steps', '1', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--batch', '4', '--warmup', '0'], { timeoutMs: 300_000 });
    ok(r, 'bench');
    expect(r.stdout).toMatch(/^backend: (wasm|tensorflow|cpu) /m);
    expect(r.stdout).toMatch(/skipped tfjs-node(-gpu)?: /);
    expect(r.stdout).toMatch(/training: +\d+\.\d\d images\/s/);
    expect(r.stdout).toMatch(/forward only: +\d+\.\d\d images\/s/);
  });

  it('bench --profile times every kernel of a step, with the memory plan and its overrides', async () => {
    const r = await sb.cli(['bench', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--classes', '3', '--batch', '4', '--steps', '1', '--warmup', '0', '--backend', 'wasm', '--memory-efficient', 'on', '--micro-batch', '2', '--profile'], { timeoutMs: 300_000 });
    ok(r, 'bench --profile');
    // The CLI measures the kernels training runs: the relaxed-SIMD build, on Node 20 as on Node >= 22.
    expect(r.stdout).toMatch(/^backend: wasm .*, relaxed-SIMD training kernels$/m);
    expect(r.stdout).toMatch(/^memory plan: +memory-efficient dense layers, micro-batches of 2; step estimated at/m);
    expect(r.stdout).toMatch(/^profile of one training step \(\d+ ms with profiling; kernels \d+ ms\):$/m);
    expect(r.stdout).toMatch(/^ {2}Conv2D(BackpropFilter|BackpropInput)? +\d+\.\d ms +\d+\.\d% +\d+ calls$/m);
  });

  it('train --memory-efficient on --micro-batch N trains that way', async () => {
    const r = await sb.cli(['train', '--data', data, '--epochs', '1', '--batch', '4', '--memory-efficient', 'on', '--micro-batch', '2', '--name', 'micro', '--json'], { timeoutMs: 240_000 });
    ok(r, 'train --memory-efficient on --micro-batch 2');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === 'finished')).toMatchObject({ reason: 'completed' });
    expect(events.filter((e) => e.type === 'log').map((e) => e.message).join('\n')).toContain('Micro-batching is on (asked for): each batch of 4 is split into micro-batches of at most 2 images');
  });

  it('npm start -- --browser --root DIR serves browser mode with those roots; serve prints a URL with a token, serves the UI and the run store, refuses requests without the token, stops on Ctrl-C', async () => {
    // npm start builds the renderer when it is out of date; serve then finds it built (one build, not two racing).
    const rootDir = path.join(sb.work, 'datasets');
    fs.mkdirSync(rootDir);
    const app = sb.start(['start', '--', '--browser', '--root', rootDir], { program: 'npm', cwd: ROOT, detached: true, timeoutMs: 240_000 });
    const [appUrl] = await app.waitFor(/https?:\/\/\S+/, { timeoutMs: 200_000 });
    const appPage = await fetch(appUrl);
    expect(appPage.status).toBe(200);
    expect(await appPage.text()).toMatch(/<div id="app"/);
    const appAt = new URL(appUrl);
    const info = await wsCall({ port: Number(appAt.port), token: appAt.searchParams.get('token')! }, 'app:info', {});
    expect(info.value).toMatchObject({ mode: 'browser', roots: [fs.realpathSync(rootDir)], runsDir: sb.runs });
    await app.stop('SIGINT');

    const server = sb.start(['serve', '--port', '0', '--host', '127.0.0.1', '--root', data, '--runs', sb.runs, '--no-open'], { timeoutMs: 200_000 });
    const [, url] = await server.waitFor(/^DenseNet Workbench: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m, { timeoutMs: 180_000 });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="app"/);
    const at = new URL(url);
    expect((await fetch(`http://127.0.0.1:${at.port}/`)).status).toBe(401);
    const auth = { port: Number(at.port), token: at.searchParams.get('token')! };
    const runs = await wsCall(auth, 'run:list', {});
    expect((runs.value as { id: string }[]).map((r) => r.id)).toContain(shapes.id);
    const scan = await wsCall(auth, 'dataset:scan', { dataset: { kind: 'folder', path: data }, thumbnailsPerClass: 0 });
    // The same files as `scan` and training: the truncated JPEG is skipped here too.
    expect(scan.value).toMatchObject({ counts: [9, 9, 9], verified: true, modes: { gray: 0, color: 27 } });
    const r = await server.stop('SIGINT');
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/internal error|Hi, looks like/);
  });

  it('npm run bench:compare runs the workbench and PyTorch side by side (where PyTorch is installed)', async (ctx) => {
    const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
    if (torch.status !== 0) {
      console.log('[readme] skipped npm run bench:compare: no PyTorch in /usr/bin/python3 (apt-get install python3-torch python3-torchvision)');
      ctx.skip();
    }
    const r = await sb.start(['run', 'bench:compare', '--', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--batch', '4', '--steps', '1', '--warmup', '0', '--threads', '1', '--engines', 'tfjs,pytorch'], { program: 'npm', cwd: ROOT, timeoutMs: 180_000 }).exited;
    ok(r, 'npm run bench:compare');
    expect(r.stdout).toMatch(/train images\/s\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d{3}x/);
    // The PyTorch engine's row beside plain PyTorch.
    expect(r.stdout).toMatch(/train images\/s, inspection on \(stats\/100, grads\/50\)\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d{3}x/);
    // The DenseNet-121 workload's flags, repeated runs and their range (on a tiny input: the
    // workload's variant, a smaller size and batch).
    const w = await sb.start(['run', 'bench:compare', '--', '--workload', 'densenet121', '--input', '32x32x3', '--batch', '2', '--steps', '1', '--warmup', '0', '--runs', '2', '--engines', 'tfjs'], { program: 'npm', cwd: ROOT, timeoutMs: 600_000 }).exited;
    ok(w, 'npm run bench:compare -- --workload densenet121 --runs 2');
    expect(w.stdout).toMatch(/^densenet121, input 32x32x3, batch 2/m);
    expect(w.stdout).toMatch(/^train images\/s +\d+\.\d{3}–\d+\.\d{3}x\s*$/m);
  });

  it('the PyTorch engine: train --backend pytorch (devices, mixed precision, channels_last, --nproc, --sync-bn), --prepare-only, resume and bench --backend pytorch', async () => {
    // Where Debian's PyTorch is missing, each command must refuse with the sentence saying so.
    const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;
    const env = { WORKBENCH_TORCH_THREADS: '1' };
    const refused = (r: Result) => userError(r, /--backend pytorch cannot be used: |--device cuda cannot be used: /);
    const tiny = ['--data', data, '--epochs', '1', '--batch', '8'];
    const auto = await sb.cli(['train', '--backend', 'pytorch', '--device', 'auto', '--variant', 'demo-bc-tiny', ...tiny], { env, timeoutMs: 200_000 });
    if (!torch) {
      console.log('[readme] the PyTorch engine\'s commands ran without PyTorch (/usr/bin/python3 has no torch): each refused, saying why');
      refused(auto);
    } else {
      ok(auto, 'train --backend pytorch');
      expect(auto.stdout).toMatch(/^pytorch: .* has torch /m);
      expect(auto.stdout).toMatch(/Run \S+ completed at epoch 1/);
    }
    // A GPU asked for by name where there is none is refused (on the CPU they train: test/integration/pytorch/parity.test.ts).
    const cuda = await sb.cli(['train', '--backend', 'pytorch', '--device', 'cuda', '--precision', 'bf16', '--channels-last', '--variant', 'demo-bc-tiny', ...tiny], { env });
    if (torch && cuda.code === 0) expect(cuda.stdout).toMatch(/completed/);
    else refused(cuda);

    // --prepare-only needs no PyTorch; resume trains the prepared run with 2 processes.
    const prepared = await sb.cli(['train', '--backend', 'pytorch', '--prepare-only', '--variant', 'demo-bc-tiny', ...tiny]);
    ok(prepared, 'train --prepare-only');
    const runDir = /in (\S+): \d+ images/.exec(prepared.stdout)![1];
    expect(prepared.stdout).toContain(`python3 -m densenet_torch --run ${runDir}`);
    expect(fs.existsSync(path.join(runDir, 'dataset', 'pixels.u8'))).toBe(true);
    const resumed = await sb.cli(['resume', runDir, '--python', '/usr/bin/python3', '--device', 'cpu', '--nproc', '2'], { env, timeoutMs: 200_000 });
    if (torch) {
      ok(resumed, 'resume --nproc 2');
      expect(resumed.stdout).toMatch(/DistributedDataParallel: 2 processes over gloo/);
      expect(readJson<{ status: string; reason: string }>(path.join(runDir, 'status.json'))).toMatchObject({ status: 'finished', reason: 'completed' });
    } else refused(resumed);
    // SyncBatchNorm synchronizes over CUDA only: on the CPU the run says so.
    const sync = await sb.cli(['train', '--backend', 'pytorch', '--nproc', '2', '--sync-bn', '--variant', 'demo-bc-tiny', ...tiny], { env, timeoutMs: 200_000 });
    if (torch) userError(sync, /SyncBatchNorm needs CUDA/);
    else refused(sync);

    const benchCuda = await sb.cli(['bench', '--backend', 'pytorch', '--python', '/usr/bin/python3', '--device', 'cuda', '--precision', 'fp16', '--channels-last', '--variant', 'densenet121', '--input', '224x224x3', '--batch', '64']);
    if (torch && benchCuda.code === 0) expect(benchCuda.stdout).toMatch(/images\/s with inspection/);
    else userError(benchCuda, /--device cuda cannot be used: |--backend pytorch cannot be used: /);
    const bench = await sb.cli(['bench', '--backend', 'pytorch', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--batch', '4', '--steps', '1', '--warmup', '0'], { env });
    if (torch) {
      ok(bench, 'bench --backend pytorch');
      expect(bench.stdout).toMatch(/^training: +\d+\.\d\d images\/s with inspection \(stats every 100, gradients every 50 steps\), \d+\.\d\d without$/m);
    } else refused(bench);
  });

  it('npx tsx test/bench/inspect-cost.ts measures what inspection costs', async () => {
    const r = await sb.start(['tsx', 'test/bench/inspect-cost.ts', '--steps', '6', '--batch', '4'], { program: 'npx', cwd: ROOT, timeoutMs: 180_000 }).exited;
    ok(r, 'inspect-cost');
    expect(r.stdout).toMatch(/A\/B \(CPU time\): off \d+\.\d\d, on \d+\.\d\d img\/s/);
  });

  it('npx tsx test/bench/ablation-cost.ts compares the ablation overview with the plain method', async () => {
    const r = await sb.start(['tsx', 'test/bench/ablation-cost.ts', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--samples', '16', '--batch', '8', '--backend', 'cpu'], { program: 'npx', cwd: ROOT, timeoutMs: 180_000 }).exited;
    ok(r, 'ablation-cost');
    expect(r.stdout).toMatch(/speed-up: \d+\.\d\d× wall, \d+\.\d\d× CPU; results agree/);
  });

});

// After all of the above (suites run one after another): the README's command lines, checked off.
describe('the README', () => {
  it('ran every command line of the README with every flag it shows', () => {
    const missing: string[] = [];
    const excused = (line: string, name: string) => Object.keys(NOT_RUN_HERE).some((k) => line.startsWith(k) || name === k);
    for (const c of readmeCommands(README)) {
      const name = `${c.program} ${c.command}`;
      const runs = sb.invocations.filter((inv) => inv.program === c.program && describeInvocation(inv).command === c.command);
      if (runs.length === 0) {
        if (!excused(c.line, name)) missing.push(`${name}: never run (README: ${c.line})`);
        continue;
      }
      const flags = new Set(runs.flatMap((inv) => describeInvocation(inv).flags));
      for (const f of c.flags) if (!flags.has(f)) missing.push(`${name} ${f}: never passed (README: ${c.line})`);
    }
    for (const [k, why] of Object.entries(NOT_RUN_HERE)) console.log(`[readme] not run here: ${k}: ${why}`);
    expect(missing).toEqual([]);
  });
});
