#!/usr/bin/env node
// `npm run bench:compare [-- --variant NAME --input HxWxC --batch B --steps N --warmup W --threads T --backend X]`
// Runs `densenet-workbench bench --json` and test/bench/pytorch_reference.py back to back on this
// machine with the same architecture, recipe, batch and thread count, then prints both figures and
// their ratio. Defaults to few steps so it finishes in a few minutes; pass --steps for steadier figures.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    variant: { type: 'string', default: 'densenet-bc-100-12' },
    input: { type: 'string', default: '32x32x3' },
    batch: { type: 'string', default: '64' },
    steps: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: String(os.availableParallelism?.() ?? os.cpus().length) },
    backend: { type: 'string', default: 'wasm' },
    python: { type: 'string' },
  },
});

const load = () => os.loadavg().map((v) => v.toFixed(2)).join(' ');
const mib = (b) => (b == null ? 'n/a' : `${(b / 2 ** 20).toFixed(0)} MiB`);

function pythonWithTorch() {
  const candidates = a.python ? [a.python] : ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

function runJson(cmd, args, label) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let parsed = null;
  try {
    parsed = JSON.parse(line);
  } catch {
    /* reported below */
  }
  if (r.status !== 0 || !parsed || parsed.error) {
    console.error(`${label} failed (exit ${r.status}): ${parsed?.error ?? (line || r.error?.message || 'no output')}`);
    process.exit(1);
  }
  return parsed;
}

const py = pythonWithTorch();
if (!py) {
  console.error('PyTorch is not installed: run `apt-get update && apt-get install -y python3-torch python3-torchvision` (Debian), or pass --python PATH.');
  process.exit(1);
}

console.log(`machine: ${os.cpus()[0]?.model ?? os.arch()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`);
console.log(`load average before: ${load()}`);
const common = ['--batch', a.batch, '--steps', a.steps, '--warmup', a.warmup];
const tfjs = runJson(process.execPath, [path.join(root, 'bin', 'densenet-workbench.mjs'), 'bench', '--variant', a.variant, '--input', a.input, '--backend', a.backend, '--threads', a.threads, '--json', ...common], 'densenet-workbench bench');
const torch = runJson(py, [path.join(root, 'test', 'bench', 'pytorch_reference.py'), '--config', JSON.stringify(tfjs.config), '--threads', a.threads, ...common], 'pytorch_reference.py');
console.log(`load average after:  ${load()}`);

const peak = (r) => r.vmHwmBytes ?? r.peakRssBytes;
const rows = [
  ['', `TF.js ${tfjs.backend.flavour}`, `PyTorch ${torch.version}`, 'ratio'],
  ['threads', String(tfjs.backend.threads), String(torch.threads), ''],
  ['parameters', String(tfjs.parameters), String(torch.parameters), ''],
  ['train images/s', tfjs.trainImagesPerSec.toFixed(2), torch.trainImagesPerSec.toFixed(2), `${(tfjs.trainImagesPerSec / torch.trainImagesPerSec).toFixed(3)}x`],
  ['forward images/s', tfjs.forwardImagesPerSec.toFixed(2), torch.forwardImagesPerSec.toFixed(2), `${(tfjs.forwardImagesPerSec / torch.forwardImagesPerSec).toFixed(3)}x`],
  ['peak memory (VmHWM)', mib(peak(tfjs)), mib(peak(torch)), `${(peak(tfjs) / peak(torch)).toFixed(2)}x`],
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`\n${tfjs.variant}, input ${a.input}, batch ${a.batch}, ${a.steps} timed steps after ${a.warmup} warm-up, SGD Nesterov 0.9, wd 1e-4`);
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
const out = path.join(root, 'test-results', 'bench-compare.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), loadavg: os.loadavg(), tfjs, torch }, null, 2));
console.log(`\nraw results: ${path.relative(root, out)}`);
