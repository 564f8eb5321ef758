/**
 * What inspection costs in training throughput (the target: at most 5% with the default settings).
 *
 *   npx tsx test/bench/inspect-cost.ts [--variant demo-bc-tiny] [--batch 64] [--steps 200] [--reps 1] [--backend auto]
 *
 * Runs the real training loop (main/engine/train/loop.ts) on synthetic 28×28×1 data in arms with
 * inspection off and on: the Inspector's hooks at the default cadence (layer stats every 100 steps
 * and at epoch ends, gradient flow every 50, contributions at epoch ends). One discarded warm-up arm
 * comes first, then ABBA order (a rep is four arms). One epoch per arm, so each arm has exactly one
 * epoch end. Prints images/s per arm and the ratio.
 *
 * It also times each probe alone and prints the overhead they amount to at the default cadence
 * for a Fashion-MNIST epoch (54,000 images), which is steadier than the A/B ratio on a busy machine.
 *
 * Times are given twice: wall clock, and this process's CPU time (user + system). Node's wasm and
 * cpu backends run on one thread, so CPU time is what a step costs even when other processes share
 * the cores, and the CPU-time ratio is the one to quote from a busy machine. An arm is short next to
 * a real epoch, so its one epoch-end probe weighs more than it would in training: the A/B figure
 * is an upper bound.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import type { DenseNetConfig } from '../../shared/config';
import { findPreset } from '../../shared/presets';
import { defaultTrainSettings, type BackendName } from '../../shared/training';
import { initBackend } from '../../main/engine/backend';
import { buildDenseNet } from '../../main/engine/model/densenet';
import { runTrainingLoop, type LoopHooks, type TrainData } from '../../main/engine/train/loop';
import { TrainControl } from '../../main/engine/train/control';
import { trainVariables } from '../../main/engine/train/model-weights';
import { Inspector } from '../../main/engine/inspect/inspector';
import { memoryBatches } from '../../main/engine/inspect/evaluation';
import { captureGradients } from '../../main/engine/inspect/gradients';

const { values: args } = parseArgs({
  options: {
    variant: { type: 'string', default: 'demo-bc-tiny' },
    batch: { type: 'string', default: '64' },
    steps: { type: 'string', default: '200' },
    reps: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'auto' },
  },
});
const batch = Number(args.batch);
const steps = Number(args.steps);
const reps = Number(args.reps);
// Each arm leaves its first 5 steps out of the timing (warm-up), so it needs more than that.
const WARMUP_STEPS = 5;
if (!Number.isInteger(steps) || steps <= WARMUP_STEPS) throw new Error(`--steps must be an integer above ${WARMUP_STEPS} (the first ${WARMUP_STEPS} steps of each arm warm up untimed); got ${args.steps}.`);
if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be a positive integer; got ${args.batch}.`);
const preset = findPreset(args.variant!);
if (!preset) throw new Error(`Unknown variant ${args.variant}; try demo-bc-tiny.`);
const config: DenseNetConfig = preset.config({ inputShape: [28, 28, 1], classes: 10 });

const backend = await initBackend(args.backend as BackendName);
console.log(`backend ${backend.name} (${backend.flavour}), ${config.variant}, batch ${batch}, ${steps} steps per arm, ${reps} reps`);

// Synthetic data: a class-dependent pattern plus noise, so the loss moves as on real data.
const n = batch * steps;
const x = new Float32Array(n * 784);
const y = new Int32Array(n);
for (let i = 0; i < n; i++) {
  y[i] = i % 10;
  for (let p = 0; p < 784; p++) x[i * 784 + p] = Math.sin((p % 28) * (1 + y[i]) * 0.1) * 0.5 + Math.random() * 0.5;
}
const valN = 256;
const val = memoryBatches(x.subarray(0, valN * 784), y.subarray(0, valN), batch);
const data: TrainData = {
  classes: 10, stepsPerEpoch: steps, rngState: () => null, setRngState: () => {},
  trainBatches: (_e, skip) => (async function* () {
    let b = 0;
    for await (const bt of memoryBatches(x, y, batch)()) if (b++ >= skip) yield bt;
  })(),
  valBatches: () => val(),
};
const settings = { ...defaultTrainSettings(), epochs: 1, batchSize: batch, checkpointEvery: 1_000_000 };

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const shares: number[] = [];

async function arm(inspect: boolean): Promise<{ wall: number; cpu: number }> {
  const model = buildDenseNet(config);
  const inspector = new Inspector({ runId: 'bench', model, modelConfig: config, classes: [...'0123456789'], val, emit: () => {} });
  let first = 0;
  let firstCpu = 0;
  let timed = 0;
  const onEvent = (e: { type: string; time?: number }) => {
    if (e.type !== 'step') return;
    // The first steps warm kernels up and are left out of both arms.
    timed++;
    if (timed === WARMUP_STEPS) {
      first = performance.now();
      firstCpu = cpuMs();
    }
  };
  // In the inspected arm, the CPU time spent inside the inspection hooks themselves: a direct,
  // load-independent measure of what inspection adds to this loop.
  let hookCpu = 0;
  const wrapped = inspector.wrapHooks({ onEvent });
  const hooks: LoopHooks = inspect
    ? {
        onEvent: (e) => {
          const t = cpuMs();
          wrapped.onEvent!(e);
          if (timed >= WARMUP_STEPS) hookCpu += cpuMs() - t;
        },
        onGradients: (...a) => {
          const t = cpuMs();
          wrapped.onGradients!(...a);
          if (timed >= WARMUP_STEPS) hookCpu += cpuMs() - t;
        },
        onProbe: async (ctx) => {
          const t = cpuMs();
          await wrapped.onProbe!(ctx);
          if (timed >= WARMUP_STEPS) hookCpu += cpuMs() - t;
        },
      }
    : { onEvent };
  // Epoch end (val evaluation in both arms, probes in the inspected arm) is inside the timed span:
  // include it by timing until the loop returns.
  await runTrainingLoop({ runId: 'bench', model, data, settings, control: new TrainControl(), hooks });
  const wall = performance.now() - first;
  const cpu = cpuMs() - firstCpu;
  inspector.dispose();
  model.dispose();
  const images = (timed - WARMUP_STEPS) * batch;
  if (inspect) shares.push(hookCpu / cpu);
  return { wall: images / (wall / 1000), cpu: images / (cpu / 1000) };
}

const results: Record<'off' | 'on', { wall: number; cpu: number }[]> = { off: [], on: [] };
// A discarded arm first: wasm compilation, JIT and heap growth would otherwise bill the first arm.
await arm(false);
// ABBA order, so drift in machine load falls on both arms alike.
for (let r = 0; r < reps; r++) {
  for (const on of r % 2 === 0 ? [false, true, true, false] : [true, false, false, true]) {
    const ips = await arm(on);
    results[on ? 'on' : 'off'].push(ips);
    console.log(`  rep ${r + 1} inspection ${on ? 'on ' : 'off'}: ${ips.wall.toFixed(2)} img/s wall, ${ips.cpu.toFixed(2)} img/s per CPU-second`);
  }
}
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
for (const k of ['wall', 'cpu'] as const) {
  const off = mean(results.off.map((r) => r[k]));
  const on = mean(results.on.map((r) => r[k]));
  console.log(`A/B (${k === 'wall' ? 'wall clock' : 'CPU time'}): off ${off.toFixed(2)}, on ${on.toFixed(2)} img/s: inspection costs ${(100 * (1 - on / off)).toFixed(1)}% of throughput`);
}

console.log(`In the loop: the inspection hooks took ${shares.map((v) => `${(100 * v).toFixed(2)}%`).join(', ')} of the inspected arms' CPU time ` +
  `(epoch-end probes amortized over ${steps} steps, not a real epoch's).`);

// ---- each probe alone ----------------------------------------------------------------------------
const model = buildDenseNet(config);
const inspector = new Inspector({ runId: 'bench', model, modelConfig: config, classes: [...'0123456789'], val, emit: () => {} });
const time = async (what: string, fn: () => Promise<unknown> | unknown, k = 5) => {
  await fn();
  const t = cpuMs();
  for (let i = 0; i < k; i++) await fn();
  const ms = (cpuMs() - t) / k;
  console.log(`  ${what}: ${ms.toFixed(1)} CPU ms`);
  return ms;
};
const xb = tf.tensor4d(x.subarray(0, batch * 784), [batch, 28, 28, 1]);
const yb = tf.oneHot(tf.tensor1d(y.subarray(0, batch), 'int32'), 10);
const vars = trainVariables(model);
const step = () => tf.tidy(() => {
  const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar, vars.map((v) => v.variable));
  const named: tf.NamedTensorMap = {};
  for (const v of vars) named[v.name] = grads[v.variable.name];
  return named;
});
console.log('Each probe alone:');
const stepMs = await time(`one training step, batch ${batch} (forward + backward, no update)`, () => tf.dispose(step()), 3);
const statsMs = await time('layer stats on the 32-sample probe batch', () => inspector.stats(false));
const contribMs = await time('contribution matrices', () => inspector.contributions());
const named = step();
const gradMs = await time('gradient capture + finish', () => captureGradients(0, named, vars).finish(vars));
tf.dispose(named);
const d = defaultTrainSettings();
const epochSteps = Math.ceil(54_000 / batch);
const perEpoch = (epochSteps / d.statsEvery) * statsMs + (epochSteps / d.gradientsEvery) * gradMs + statsMs + contribMs;
console.log(`At the defaults (stats every ${d.statsEvery}, gradients every ${d.gradientsEvery}, a ${epochSteps}-step epoch): ` +
  `${perEpoch.toFixed(0)} CPU ms of probes per epoch against ${(epochSteps * stepMs / 1000).toFixed(0)} CPU s of steps (backward without the update): ` +
  `${(100 * perEpoch / (epochSteps * stepMs)).toFixed(2)}% overhead.`);
tf.dispose([xb, yb]);
inspector.dispose();
model.dispose();
// The wasm backend keeps the event loop alive; the measurement is done.
process.exit(0);
