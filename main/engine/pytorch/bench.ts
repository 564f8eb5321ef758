import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import type { DeviceName } from '../../../shared/training';
import { PACKAGE_ROOT } from './detect';
import { chooseEngine } from './select';
import type { PyTorchDetection } from './detect';

/**
 * `bench --backend pytorch`: the PyTorch engine's own benchmark (densenet_torch/bench.py: the
 * engine's data pipeline, model, optimizer and loop on synthetic data, with the inspection hooks
 * charged at the run's cadences), run by the interpreter detection picks.
 */
export interface PyTorchBenchOptions {
  config: DenseNetConfig;
  batch: number;
  steps: number;
  warmup: number;
  threads?: number;
  python?: string;
  device?: DeviceName;
  precision?: 'fp32' | 'bf16' | 'fp16';
  channelsLast?: boolean;
  statsEvery?: number;
  gradientsEvery?: number;
}

export interface PyTorchBenchResult {
  engine: 'pytorch-workbench';
  version: string;
  device: string;
  kind: string;
  threads: number;
  precision: string;
  channelsLast: boolean;
  batch: number;
  steps: number;
  warmup: number;
  parameters: number;
  /** With the inspection hooks charged at statsEvery / gradientsEvery. */
  trainImagesPerSec: number;
  trainStepMs: number;
  trainImagesPerSecHooksOff: number;
  statsProbeMs: number;
  gradientCaptureMs: number;
  statsEvery: number;
  gradientsEvery: number;
  /** Extra step time the hooks cost at those cadences, as a fraction of a step. */
  inspectionShare: number;
  forwardImagesPerSec: number;
  vmHwmBytes: number | null;
  config: DenseNetConfig;
  detection: PyTorchDetection;
}

export async function runPyTorchBenchmark(o: PyTorchBenchOptions): Promise<PyTorchBenchResult> {
  const { detection } = await chooseEngine({ backend: 'pytorch', device: o.device ?? 'auto' }, o.python ? { python: o.python } : {});
  const args = ['-m', 'densenet_torch', '--bench', JSON.stringify(o.config), '--batch', String(o.batch), '--steps', String(o.steps),
    '--warmup', String(o.warmup), '--device', o.device ?? 'auto', '--precision', o.precision ?? 'fp32',
    '--stats-every', String(o.statsEvery ?? 100), '--gradients-every', String(o.gradientsEvery ?? 50)];
  if (o.threads) args.push('--threads', String(o.threads));
  if (o.channelsLast) args.push('--channels-last');
  const env = { ...process.env, PYTHONPATH: [PACKAGE_ROOT, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(detection!.python!, args, { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new WorkbenchError(`The PyTorch benchmark failed: ${(stderr.trim().split('\n').pop() || err.message).slice(0, 500)}`, { user: false }));
      else resolve(stdout);
    });
    child.stderr?.pipe(process.stderr);
  });
  return { ...(JSON.parse(out.trim().split('\n').pop()!) as Omit<PyTorchBenchResult, 'config' | 'detection'>), config: o.config, detection: detection! };
}
