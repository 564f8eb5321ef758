/**
 * The ablation overview against the plain method, side by side in one process.
 *
 *   npx tsx test/bench/ablation-cost.ts [--variant densenet-bc-40-12] [--input 32x32x3] [--samples 256] [--batch 64] [--backend auto]
 *
 * Both compute every dense layer's validation accuracy with its new feature maps zeroed, on the
 * same synthetic split and model, and must agree. The plain method (`ablateLayers`) zeroes a
 * kernel and runs the whole network over the split once per layer, plus once for the baseline;
 * the overview (`ablationOverview`) walks the split once and reruns only what lies downstream of
 * each zeroed layer. Prints wall and CPU seconds of each and the ratio.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { connectivityGraph } from '../../shared/architecture';
import { findPreset } from '../../shared/presets';
import type { BackendName } from '../../shared/training';
import { initBackend } from '../../main/engine/backend';
import { buildDenseNet } from '../../main/engine/model/densenet';
import { ablateLayers } from '../../main/engine/inspect/ablation';
import { ablationOverview } from '../../main/engine/inspect/ablation-overview';
import { memoryBatches } from '../../main/engine/inspect/evaluation';
import { accuracyOf, predictAll } from '../../main/engine/train/evaluate';
import { ablationTargets } from '../../main/engine/inspect/probe-points';

const { values: args } = parseArgs({
  options: {
    variant: { type: 'string', default: 'densenet-bc-40-12' },
    input: { type: 'string', default: '32x32x3' },
    samples: { type: 'string', default: '256' },
    batch: { type: 'string', default: '64' },
    backend: { type: 'string', default: 'auto' },
  },
});
const inputShape = args.input!.split('x').map(Number) as [number, number, number];
const preset = findPreset(args.variant!);
if (!preset) throw new Error(`Unknown variant ${args.variant}.`);
const config = preset.config({ inputShape, classes: 10 });
const backend = await initBackend(args.backend as BackendName);
const n = Number(args.samples);
const batch = Number(args.batch);
const per = inputShape[0] * inputShape[1] * inputShape[2];
const x = new Float32Array(n * per);
const y = new Int32Array(n);
for (let i = 0; i < n; i++) {
  y[i] = i % 10;
  for (let p = 0; p < per; p++) x[i * per + p] = Math.sin(p * 0.01 * (1 + y[i])) + Math.random() * 0.5;
}
const model = buildDenseNet(config);
const targets = ablationTargets(connectivityGraph(config)).map((t) => t.conv);
console.log(`backend ${backend.name} (${backend.flavour}, ${backend.threads} threads), ${config.variant} at ${args.input}, ${targets.length} dense layers, ${n} samples, batch ${batch}`);

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

// Warm-up: kernels compile and the heap grows once, for both.
await predictAll(model, memoryBatches(x.subarray(0, batch * per), y.subarray(0, batch), batch)());
const plain = await timed(() => ablateLayers(model, targets, async () => {
  const p = await predictAll(model, memoryBatches(x, y, batch)());
  return accuracyOf(p.labels, p.predicted);
}));
const overview = await timed(() => ablationOverview(model, targets, memoryBatches(x, y, batch)(), { samples: n }));
const agree = plain.value.layers.every((l, i) => l.accuracy === overview.value.layers[i].accuracy) && plain.value.baselineAccuracy === overview.value.baselineAccuracy;
console.log(`plain:    ${plain.wall.toFixed(2)} s wall, ${plain.cpu.toFixed(2)} s CPU`);
console.log(`overview: ${overview.wall.toFixed(2)} s wall, ${overview.cpu.toFixed(2)} s CPU`);
console.log(`speed-up: ${(plain.wall / overview.wall).toFixed(2)}× wall, ${(plain.cpu / overview.cpu).toFixed(2)}× CPU; results ${agree ? 'agree' : 'DIFFER'}`);
model.dispose();
console.log(`tensors left: ${tf.memory().numTensors}`);
