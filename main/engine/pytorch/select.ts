import * as fs from 'node:fs';
import * as os from 'node:os';
import { WorkbenchError } from '../../../shared/errors';
import type { DeviceName, TrainBackendName, TrainSettings } from '../../../shared/training';
import { detectPyTorch, type DetectOptions, type PyTorchDetection } from './detect';

/**
 * Which engine trains a run. `--backend pytorch` asks for the PyTorch engine (on a GPU, or on the
 * CPU when there is none); `auto` takes it only when PyTorch has a usable GPU, and otherwise the
 * TF.js engine's best backend; any TF.js backend name keeps the TF.js engine.
 *
 * `auto` first asks the operating system whether there is a GPU at all: with no NVIDIA, AMD or
 * Apple GPU, PyTorch cannot find one either, and the 2-second torch import is skipped.
 */
export interface EngineChoice {
  engine: 'tfjs' | 'pytorch';
  /** The PyTorch detection, when it ran. */
  detection: PyTorchDetection | null;
  /** Why the PyTorch engine was not chosen, for the backend report's `skipped` (TF.js runs). */
  skipped?: { backend: 'pytorch'; reason: string };
}

/** Whether this machine shows a GPU PyTorch could use (device nodes, or Apple silicon). */
export function gpuPresent(): { present: boolean; what: string } {
  if (process.platform === 'darwin') {
    return os.arch() === 'arm64' ? { present: true, what: 'Apple silicon' } : { present: false, what: 'no Apple silicon GPU (an Intel Mac)' };
  }
  if (process.platform === 'win32') return { present: true, what: 'Windows (not checked without torch)' };
  const nodes = ['/dev/nvidiactl', '/dev/nvidia0', '/proc/driver/nvidia/gpus', '/dev/kfd', '/dev/dxg'];
  const found = nodes.find((n) => fs.existsSync(n));
  return found ? { present: true, what: found } : { present: false, what: 'no GPU on this machine (no NVIDIA, AMD or WSL GPU device)' };
}

export async function chooseEngine(
  settings: { backend: TrainBackendName; device?: DeviceName; fineTune?: TrainSettings['fineTune'] },
  options: DetectOptions & { detect?: typeof detectPyTorch; gpuPresent?: typeof gpuPresent } = {},
): Promise<EngineChoice> {
  const detect = options.detect ?? detectPyTorch;
  // The two-phase fine-tuning recipe (main/engine/train/fine-tune.ts) runs in the TF.js engine only.
  if (settings.fineTune) {
    if (settings.backend === 'pytorch') {
      throw new WorkbenchError('The PyTorch engine does not run the two-phase fine-tuning recipe yet; use a TF.js backend (--backend wasm, tensorflow, cpu or auto).');
    }
    return { engine: 'tfjs', detection: null, ...(settings.backend === 'auto' ? { skipped: { backend: 'pytorch' as const, reason: 'fine-tuning in two phases runs on the TF.js engine only' } } : {}) };
  }
  if (settings.backend === 'pytorch') {
    const detection = await detect(options);
    if (!detection.python) throw new WorkbenchError(`--backend pytorch cannot be used: ${detection.why}${options.python ? '' : reasons(detection)}`);
    const device = settings.device ?? 'auto';
    if ((device === 'cuda' || device === 'mps') && !detection.gpu) {
      throw new WorkbenchError(`--device ${device} cannot be used: ${detection.why} Use --device cpu or auto.`);
    }
    return { engine: 'pytorch', detection };
  }
  if (settings.backend !== 'auto') return { engine: 'tfjs', detection: null };
  if (!options.python) {
    const gpu = (options.gpuPresent ?? gpuPresent)();
    if (!gpu.present) return { engine: 'tfjs', detection: null, skipped: { backend: 'pytorch', reason: `${gpu.what}: CPU only, chosen only with --backend pytorch` } };
  }
  const detection = await detect(options);
  if (detection.gpu) return { engine: 'pytorch', detection };
  return {
    engine: 'tfjs', detection,
    skipped: { backend: 'pytorch', reason: detection.python ? `${detection.why} CPU only is chosen only with --backend pytorch.` : detection.why },
  };
}

function reasons(d: PyTorchDetection): string {
  if (d.passedOver.length === 0) return '';
  return ` Tried: ${d.passedOver.map((p) => p.reason).join('; ')}.`;
}

/** The backend report lines of a detection, as `bench` and `train` print them. */
export function formatPyTorchDetection(d: PyTorchDetection): string {
  const lines = [d.python ? `pytorch: ${d.why}` : `pytorch: not available. ${d.why}`];
  const gpu = d.probe?.gpus?.[0];
  if (gpu?.memoryBytes) lines.push(`  device: ${gpu.name}, ${(gpu.memoryBytes / 2 ** 30).toFixed(1)} GiB`);
  else if (d.probe?.cpu) lines.push(`  device: ${d.probe.cpu}, ${d.probe.cpus ?? '?'} CPUs${d.probe.memoryBytes ? `, ${(d.probe.memoryBytes / 2 ** 30).toFixed(1)} GiB` : ''}`);
  for (const p of d.passedOver) lines.push(`  skipped ${p.reason}`);
  lines.push(`  (detected in ${d.seconds.toFixed(1)} s)`);
  return lines.join('\n');
}
