#!/usr/bin/env node
// `npm run bench:compare [-- --workload bc100|densenet121] [--variant NAME --input HxWxC --batch B
//   --steps N --warmup W --threads T --backend X --memory-efficient auto|on|off --runs R --engines tfjs,pytorch]`
// --workload picks the measured workloads: bc100 (DenseNet-BC-100, 32x32x3, batch 64; the default)
// or densenet121 (DenseNet-121, 224x224x3, batch 32); the other flags override its parts. --runs
// repeats the TF.js/PyTorch pair and prints every run's ratios and their range.
// Runs `densenet-workbench bench --json` (the TF.js engine), test/bench/pytorch_reference.py (plain
// PyTorch) and `densenet-workbench bench --backend pytorch --json` (the workbench's PyTorch engine,
// inspection hooks on at the run's cadences) back to back on this machine, with the same
// architecture, recipe, batch and thread count, then prints the figures and the ratios to plain
// PyTorch. Defaults to few steps so it finishes in a few minutes; pass --steps for steadier figures.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKLOADS = {
  bc100: { variant: 'densenet-bc-100-12', input: '32x32x3', batch: '64' },
  densenet121: { variant: 'densenet121', input: '224x224x3', batch: '32' },
};
const { values: a } = parseArgs({
  options: {
    workload: { type: 'string', default: 'bc100' },
    variant: { type: 'string' },
    input: { type: 'string' },
    batch: { type: 'string' },
    'memory-efficient': { type: 'string', default: 'auto' },
    runs: { type: 'string', default: '1' },
    steps: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: String(os.availableParallelism?.() ?? os.cpus().length) },
    backend: { type: 'string', default: 'wasm' },
    python: { type: 'string' },
    engines: { type: 'string', default: 'tfjs,pytorch' },
  },
});
const workload = WORKLOADS[a.workload];
if (!workload) {
  console.error(`--workload must be one of ${Object.keys(WORKLOADS).join(', ')}; got "${a.workload}".`);
  process.exit(2);
}
for (const key of ['variant', 'input', 'batch']) a[key] ??= workload[key];
const runs = Number(a.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
  console.error(`--runs must be an integer in 1..20; got "${a.runs}".`);
  process.exit(2);
}
const engines = new Set(a.engines.split(','));
// Node 20 runs the wasm kernels' relaxed-SIMD build only with this V8 flag (Node >= 22: always).
const nodeFlags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [];

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
const common = ['--batch', a.batch, '--steps', a.steps, '--warmup', a.warmup];
const cli = path.join(root, 'bin', 'densenet-workbench.mjs');
const peak = (r) => r.vmHwmBytes ?? r.peakRssBytes;
const table = (rows) => {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
};
const results = [];
for (let run = 1; run <= runs; run++) {
  const before = load();
  console.log(`\n${runs > 1 ? `run ${run} of ${runs}: ` : ''}load average before: ${before}`);
  const tfjs = engines.has('tfjs')
    ? runJson(process.execPath, [...nodeFlags, cli, 'bench', '--variant', a.variant, '--input', a.input, '--backend', a.backend, '--threads', a.threads, '--memory-efficient', a['memory-efficient'], '--json', ...common], 'densenet-workbench bench')
    : null;
  const engine = engines.has('pytorch') && run === 1
    ? runJson(process.execPath, [cli, 'bench', '--backend', 'pytorch', '--python', py, '--variant', a.variant, '--input', a.input, '--threads', a.threads, '--json', ...common], 'densenet-workbench bench --backend pytorch')
    : null;
  const config = tfjs?.config ?? engine?.config;
  const torch = runJson(py, [path.join(root, 'test', 'bench', 'pytorch_reference.py'), '--config', JSON.stringify(config), '--threads', a.threads, ...common], 'pytorch_reference.py');
  const after = load();
  console.log(`load average after:  ${after}`);
  results.push({ run, loadBefore: before, loadAfter: after, tfjs, engine, torch });

  console.log(`\n${config.variant}, input ${a.input}, batch ${a.batch}, ${a.steps} timed steps after ${a.warmup} warm-up, SGD Nesterov 0.9, wd 1e-4`);
  if (tfjs) {
    const m = tfjs.memory;
    console.log(`TF.js memory plan: ${m.memoryEfficient ? 'memory-efficient' : 'plain'} dense layers${m.microBatch < tfjs.batch ? `, micro-batches of ${m.microBatch}` : ''}; kernels: ${tfjs.backend.kernels ?? 'n/a'}`);
    table([
      ['', `TF.js ${tfjs.backend.flavour}`, `PyTorch ${torch.version}`, 'ratio'],
      ['threads', String(tfjs.backend.threads), String(torch.threads), ''],
      ['parameters', String(tfjs.parameters), String(torch.parameters), ''],
      ['train images/s', tfjs.trainImagesPerSec.toFixed(2), torch.trainImagesPerSec.toFixed(2), `${(tfjs.trainImagesPerSec / torch.trainImagesPerSec).toFixed(3)}x`],
      ['forward images/s', tfjs.forwardImagesPerSec.toFixed(2), torch.forwardImagesPerSec.toFixed(2), `${(tfjs.forwardImagesPerSec / torch.forwardImagesPerSec).toFixed(3)}x`],
      ['peak memory (VmHWM)', mib(peak(tfjs)), mib(peak(torch)), `${(peak(tfjs) / peak(torch)).toFixed(2)}x`],
    ]);
  }
  if (engine) {
    console.log(`\nThe workbench's PyTorch engine (its data pipeline, loop and inspection) against plain PyTorch:`);
    table([
      ['', `PyTorch engine ${engine.version}`, `plain PyTorch ${torch.version}`, 'ratio'],
      ['parameters', String(engine.parameters), String(torch.parameters), ''],
      [`train images/s, inspection on (stats/${engine.statsEvery}, grads/${engine.gradientsEvery})`, engine.trainImagesPerSec.toFixed(2), torch.trainImagesPerSec.toFixed(2), `${(engine.trainImagesPerSec / torch.trainImagesPerSec).toFixed(3)}x`],
      ['train images/s, inspection off', engine.trainImagesPerSecHooksOff.toFixed(2), torch.trainImagesPerSec.toFixed(2), `${(engine.trainImagesPerSecHooksOff / torch.trainImagesPerSec).toFixed(3)}x`],
      ['inspection share of step time', `${(100 * engine.inspectionShare).toFixed(2)}%`, '', ''],
      ['forward images/s', engine.forwardImagesPerSec.toFixed(2), torch.forwardImagesPerSec.toFixed(2), `${(engine.forwardImagesPerSec / torch.forwardImagesPerSec).toFixed(3)}x`],
      ['peak memory (VmHWM)', mib(peak(engine)), mib(peak(torch)), `${(peak(engine) / peak(torch)).toFixed(2)}x`],
    ]);
  }
}
const paired = results.filter((r) => r.tfjs);
if (paired.length > 1) {
  const range = (f) => {
    const v = paired.map(f);
    return `${Math.min(...v).toFixed(3)}–${Math.max(...v).toFixed(3)}x`;
  };
  console.log(`\nover ${paired.length} runs (load ${paired.map((r) => r.loadBefore.split(' ')[0]).join(', ')}):`);
  table([
    ['', 'ratio range'],
    ['train images/s', range((r) => r.tfjs.trainImagesPerSec / r.torch.trainImagesPerSec)],
    ['forward images/s', range((r) => r.tfjs.forwardImagesPerSec / r.torch.forwardImagesPerSec)],
    ['peak memory (VmHWM)', range((r) => peak(r.tfjs) / peak(r.torch))],
  ]);
}
const out = path.join(root, 'test-results', 'bench-compare.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), workload: { variant: a.variant, input: a.input, batch: a.batch }, runs: results }, null, 2));
console.log(`\nraw results: ${path.relative(root, out)}`);
