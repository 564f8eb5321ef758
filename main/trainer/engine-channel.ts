import * as path from 'node:path';
import type { TrainerEvent } from '../../shared/protocol';
import { toErrorData } from '../../shared/errors';
import type { TrainSettings } from '../../shared/training';
import type { PyTorchDetection } from '../engine/pytorch/detect';
import type { Progress } from '../engine/pytorch/prepare';
import { chooseEngine, type EngineChoice } from '../engine/pytorch/select';
import type { TrainerChannel, TrainerExit } from './channel';
import { spawnPythonTrainer } from './python-channel';
import { WorkbenchError } from '../../shared/errors';

/**
 * The trainer a run's settings ask for, behind one TrainerChannel: the TF.js trainer (`tfjs`: a
 * fork, or Electron's utility process), or the PyTorch engine's Python trainer when the settings
 * say `pytorch`, or `auto` finds PyTorch with a GPU (main/engine/pytorch/select.ts). The choice
 * takes a moment (a probe of the interpreter), so messages sent meanwhile wait, and a choice that
 * cannot be met (`--backend pytorch` without PyTorch) ends the run at once with a sentence saying why.
 */
export interface EngineChannelOptions {
  tfjs: () => TrainerChannel;
  settings?: TrainSettings;
  /** A choice made already (the CLI makes it first, to print it). */
  choice?: EngineChoice;
  /** Processes on this machine for DistributedDataParallel (PyTorch only). */
  nproc?: number;
  env?: NodeJS.ProcessEnv;
  /** The Python trainer's stderr; default this process's. */
  stderr?: (text: string) => void;
}

/** True when the settings name a TF.js backend: no choice to make. */
function tfjsOnly(settings?: TrainSettings): boolean {
  return !settings || (settings.backend !== 'auto' && settings.backend !== 'pytorch');
}

export function engineChannel(options: EngineChannelOptions): TrainerChannel {
  if (!options.choice && tfjsOnly(options.settings)) return options.tfjs();
  const messageListeners: ((m: unknown) => void)[] = [];
  const exitListeners: ((e: TrainerExit) => void)[] = [];
  const pending: unknown[] = [];
  let target: TrainerChannel | null = null;
  let ended: TrainerExit | null = null;
  let disconnectAsked = false;
  const deliver = (m: unknown) => {
    for (const l of [...messageListeners]) l(m);
  };
  const end = (e: TrainerExit) => {
    if (ended) return;
    ended = e;
    for (const l of exitListeners) l(e);
  };

  const attach = (channel: TrainerChannel) => {
    target = channel;
    channel.onMessage(deliver);
    channel.onExit(end);
    for (const m of pending.splice(0)) channel.send(m);
    if (disconnectAsked) channel.disconnect?.();
  };

  const choose = options.choice ? Promise.resolve(options.choice) : chooseEngine({ backend: options.settings!.backend, device: options.settings!.device, fineTune: options.settings!.fineTune }, options.settings!.python ? { python: options.settings!.python } : {});
  choose.then((choice) => {
    if (choice.engine === 'tfjs' || !choice.detection?.python) {
      attach(options.tfjs());
      if (choice.skipped) deliver({ type: 'log', level: 'info', message: `pytorch skipped: ${choice.skipped.reason}`, time: Date.now() });
      return;
    }
    attach(pythonTrainer(choice.detection, options));
  }, (err: unknown) => {
    // Nothing can train these runs: each asked-for run ends, saying why, and so does the "process".
    for (const m of pending.splice(0)) {
      const c = m as { type?: string; runDir?: string };
      if ((c.type === 'start' || c.type === 'resumeRun') && c.runDir) {
        const runId = path.basename(c.runDir);
        const error = toErrorData(err);
        deliver({ type: 'error', runId, error, fatal: true, time: Date.now() });
        deliver({ type: 'finished', runId, reason: 'failed', message: error.message, step: 0, epoch: 0, bestValAccuracy: null, time: Date.now() });
      }
    }
    end({ code: 2, signal: null });
  });

  return {
    get pid() {
      return target?.pid;
    },
    send(message) {
      if (target) target.send(message);
      else if (!ended) pending.push(message);
    },
    onMessage(listener) {
      messageListeners.push(listener);
    },
    onExit(listener) {
      if (ended) listener(ended);
      else exitListeners.push(listener);
    },
    kill(signal) {
      if (target) target.kill(signal);
      else end({ code: null, signal: signal ?? 'SIGKILL' });
    },
    disconnect() {
      disconnectAsked = true;
      target?.disconnect?.();
      if (!target && pending.length === 0) end({ code: 0, signal: null });
    },
  };
}

/** The Python trainer for a detection, with the host-side preparation of its runs. */
function pythonTrainer(detection: PyTorchDetection, options: EngineChannelOptions): TrainerChannel {
  const report = pendingReport(detection);
  return spawnPythonTrainer({
    python: detection.python!,
    nproc: options.nproc,
    env: options.env,
    stderr: options.stderr,
    // The data module (sharp) loads only when a PyTorch run is prepared: the Electron main process stays light.
    prepare: async (start, emit) => {
      if (start.startFrom && start.startFrom.kind !== 'scratch') {
        throw new WorkbenchError('The PyTorch engine does not start runs from pretrained weights yet; train this run with a TF.js backend (--backend wasm, tensorflow or cpu).');
      }
      const { prepareRun } = await import('../engine/pytorch/prepare');
      await prepareRun({ runDir: start.runDir, ...(start.name ? { name: start.name } : {}), model: start.model, settings: start.settings, dataset: start.dataset, backend: report, onProgress: progress(start.runDir, emit) });
    },
    ensureCache: async (resume, emit) => {
      const { ensureDatasetCache } = await import('../engine/pytorch/prepare');
      const r = await ensureDatasetCache(resume.runDir, progress(resume.runDir, emit));
      for (const w of r.warnings) emit({ type: 'log', level: 'warn', message: w, time: Date.now() });
    },
  });
}

/**
 * What config.json records before the Python trainer has started (it writes its own report, with
 * the device it trains on, at the run's first step).
 */
function pendingReport(d: PyTorchDetection): { name: string } & Record<string, unknown> {
  return {
    name: 'pytorch', flavour: d.gpu ? 'torch-gpu' : 'torch-cpu', version: d.probe?.torch ?? 'unknown',
    device: d.probe?.gpus?.[0]?.name ?? d.probe?.cpu ?? 'unknown', python: d.python, chosen: d.why,
    skipped: d.passedOver.map((p) => ({ backend: p.python, reason: p.reason })),
  };
}

/** Decoding and caching progress as log lines, at most one every 5 s (a dataset can take minutes). */
function progress(runDir: string, emit: (e: TrainerEvent) => void): Progress {
  let last = 0;
  return (what, done, total) => {
    const now = Date.now();
    if (now - last < 5000 && done < total) return;
    last = now;
    const words = what === 'decode' ? 'Decoding the dataset' : 'Writing the dataset cache for the PyTorch engine';
    emit({ type: 'log', level: 'info', message: `${words} of run ${path.basename(runDir)}: ${done} of ${total} images.`, time: now });
  };
}
