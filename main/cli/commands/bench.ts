import type { Command } from 'commander';
import { WorkbenchError } from '../../../shared/errors';
import { getPreset } from '../../../shared/presets';
import { BackendNameSchema, DeviceSchema, PrecisionSchema } from '../../../shared/training';
import { assertValidConfig } from '../../../shared/validation';
import { runBenchmark, type BenchResult } from '../../engine/backend/bench';
import { formatBackendReport } from '../../engine/backend/index';
import { runPyTorchBenchmark, type PyTorchBenchResult } from '../../engine/pytorch/bench';
import { formatPyTorchDetection } from '../../engine/pytorch/select';
import { parseInputShapeArg } from '../dataset-args';

/**
 * `densenet-workbench bench --variant NAME --input HxWxC --batch B --steps N [--backend X]
 * [--warmup W] [--threads T] [--classes K] [--memory-efficient auto|on|off] [--micro-batch N]
 * [--profile] [--json]`: training and forward-only images/s and peak memory on synthetic data,
 * after warm-up (paper recipe: SGD, Nesterov 0.9, weight decay 1e-4), with the memory plan the
 * trainer would use and, with --profile, where one step's time goes per kernel.
 */
interface BenchFlags {
  variant: string;
  input: string;
  batch: string;
  steps: string;
  warmup: string;
  backend: string;
  threads?: string;
  classes: string;
  memoryEfficient: string;
  microBatch: string;
  profile?: boolean;
  json?: boolean;
  python?: string;
  device: string;
  precision: string;
  channelsLast?: boolean;
}

function positiveInt(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new WorkbenchError(`--${name} must be an integer in 1..${max}; got "${text}".`);
  return n;
}

const mb = (bytes: number | null) => (bytes == null ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);

export function formatBench(r: BenchResult): string {
  const m = r.memory;
  const mode = `${m.memoryEfficient ? 'memory-efficient' : 'plain'} dense layers${m.microBatch < r.batch ? `, micro-batches of ${m.microBatch}` : ''}`;
  const lines = [
    formatBackendReport(r.backend),
    `model: ${r.variant} (${r.parameters.toLocaleString('en-US')} parameters), input ${r.config.inputShape.join('x')}, batch ${r.batch}, ${r.steps} timed steps after ${r.warmup} warm-up`,
    `memory plan:  ${mode}; step estimated at ${mb(m.estimatedPeakBytes)} (plain: ${mb(m.plainEstimatedPeakBytes)})${m.heapLimitBytes ? ` of a ${mb(m.heapLimitBytes)} heap` : ''}`,
    ...m.notes.map((n) => `  ${n}`),
    `training:     ${r.trainImagesPerSec.toFixed(2)} images/s (${r.trainStepMs.toFixed(0)} ms a step)`,
    `forward only: ${r.forwardImagesPerSec.toFixed(2)} images/s`,
    `peak memory:  ${mb(r.vmHwmBytes)} VmHWM, ${mb(r.peakRssBytes)} sampled RSS${m.heapPeakBytes != null ? `, ${mb(m.heapPeakBytes)} held by tensors on the wasm heap` : ''}`,
  ];
  if (r.profile) {
    const total = r.profile.kernels.reduce((a, k) => a + k.ms, 0);
    lines.push(`profile of one training step (${r.profile.stepMs.toFixed(0)} ms with profiling; kernels ${total.toFixed(0)} ms):`);
    for (const k of r.profile.kernels.filter((k) => k.ms >= 0.005 * total)) {
      lines.push(`  ${k.kernel.padEnd(24)} ${k.ms.toFixed(1).padStart(9)} ms ${((100 * k.ms) / total).toFixed(1).padStart(5)}%  ${String(k.calls).padStart(5)} calls`);
    }
  }
  return lines.join('\n');
}

export function formatPyTorchBench(r: PyTorchBenchResult): string {
  return [
    formatPyTorchDetection(r.detection),
    `engine: PyTorch ${r.version} on ${r.device} (${r.kind}), ${r.threads} CPU thread${r.threads === 1 ? '' : 's'}, ${r.precision}${r.channelsLast ? ', channels_last' : ''}`,
    `model: ${r.config.variant} (${r.parameters.toLocaleString('en-US')} parameters), input ${r.config.inputShape.join('x')}, batch ${r.batch}, ${r.steps} timed steps after ${r.warmup} warm-up (three passes)`,
    `training:     ${r.trainImagesPerSec.toFixed(2)} images/s with inspection (stats every ${r.statsEvery}, gradients every ${r.gradientsEvery} steps), ${r.trainImagesPerSecHooksOff.toFixed(2)} without`,
    `inspection:   ${r.statsProbeMs.toFixed(1)} ms a layer-stats probe, ${r.gradientCaptureMs.toFixed(1)} ms a gradient capture: ${(100 * r.inspectionShare).toFixed(2)}% of step time`,
    `forward only: ${r.forwardImagesPerSec.toFixed(2)} images/s`,
    `peak memory:  ${mb(r.vmHwmBytes)} VmHWM`,
  ].join('\n');
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('Measure training and forward-only throughput and peak memory on synthetic data.')
    .option('--variant <name>', 'a preset, e.g. densenet-bc-100-12', 'densenet-bc-100-12')
    .option('--input <HxWxC>', 'input shape', '32x32x3')
    .option('--batch <n>', 'batch size', '64')
    .option('--steps <n>', 'timed steps', '10')
    .option('--warmup <n>', 'untimed steps first', '2')
    .option('--backend <name>', 'auto, tensorflow, wasm, cpu (TF.js) or pytorch (the PyTorch engine)', 'auto')
    .option('--threads <n>', 'wasm threads (default: all cores)')
    .option('--classes <n>', 'output classes', '10')
    .option('--memory-efficient <mode>', 'memory-efficient dense layers: auto (where the plain ones would not fit), on or off', 'auto')
    .option('--micro-batch <n>', 'at most N images a forward/backward pass, gradients summed over the batch (0: only when nothing else fits)', '0')
    .option('--profile', 'also time every kernel of one more training step')
    .option('--json', 'print one JSON object instead of text')
    .option('--python <path>', 'pytorch: the Python interpreter (default: found, see the README)')
    .option('--device <name>', 'pytorch: auto, cuda, mps or cpu', 'auto')
    .option('--precision <name>', 'pytorch: fp32, bf16 or fp16 (mixed precision on a GPU)', 'fp32')
    .option('--channels-last', 'pytorch: the channels_last memory format')
    .action(async (flags: BenchFlags) => {
      const config = assertValidConfig(getPreset(flags.variant, { inputShape: parseInputShapeArg(flags.input), classes: positiveInt('classes', flags.classes, 100_000) }));
      if (flags.backend === 'pytorch') {
        const device = DeviceSchema.safeParse(flags.device);
        if (!device.success) throw new WorkbenchError(`--device must be one of ${DeviceSchema.options.join(', ')}; got "${flags.device}".`);
        const precision = PrecisionSchema.safeParse(flags.precision);
        if (!precision.success) throw new WorkbenchError(`--precision must be one of ${PrecisionSchema.options.join(', ')}; got "${flags.precision}".`);
        const r = await runPyTorchBenchmark({
          config, batch: positiveInt('batch', flags.batch, 4096), steps: positiveInt('steps', flags.steps, 100_000),
          warmup: flags.warmup === '0' ? 0 : positiveInt('warmup', flags.warmup, 100_000), device: device.data, precision: precision.data,
          channelsLast: Boolean(flags.channelsLast), ...(flags.python ? { python: flags.python } : {}),
          ...(flags.threads ? { threads: positiveInt('threads', flags.threads, 64) } : {}),
        });
        process.stdout.write(flags.json ? `${JSON.stringify(r)}\n` : `${formatPyTorchBench(r)}\n`);
        return;
      }
      const backend = BackendNameSchema.safeParse(flags.backend);
      if (!backend.success) throw new WorkbenchError(`--backend must be one of auto, tensorflow, wasm, cpu, pytorch; got "${flags.backend}".`);
      if (!['auto', 'on', 'off'].includes(flags.memoryEfficient)) throw new WorkbenchError(`--memory-efficient must be one of auto, on, off; got "${flags.memoryEfficient}".`);
      const result = await runBenchmark({
        memoryEfficient: flags.memoryEfficient as 'auto' | 'on' | 'off',
        microBatch: flags.microBatch === '0' ? 0 : positiveInt('micro-batch', flags.microBatch, 4096),
        ...(flags.profile ? { profile: true } : {}),
        config,
        batch: positiveInt('batch', flags.batch, 4096),
        steps: positiveInt('steps', flags.steps, 100_000),
        warmup: flags.warmup === '0' ? 0 : positiveInt('warmup', flags.warmup, 100_000),
        backend: backend.data,
        ...(flags.threads ? { threads: positiveInt('threads', flags.threads, 64) } : {}),
        onStep: flags.json ? undefined : (phase, i, ms) => process.stderr.write(`  ${phase} ${i + 1}: ${ms.toFixed(0)} ms\n`),
      });
      process.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `${formatBench(result)}\n`);
    });
}
