import fs from 'node:fs';
import path from 'node:path';
import type { BackendInfo, ExportResult, RunInfo, ScanResult } from '../../shared/api';
import { WorkbenchError } from '../../shared/errors';
import { runFields } from '../../shared/run/state';
import type { DatasetSpec, TrainSettings } from '../../shared/training';
import { METRICS_FILE, readMetricsFile } from '../engine/runs/metrics-log';
import { MetricsFollower } from '../engine/runs/metrics-follower';
import * as store from '../engine/runs/run-store';
import type { TrainerChannel } from '../trainer/channel';
import { TrainerHost } from '../trainer/host';
import type { EnginePorts, RunStorePort, TrainerPort } from './ports';
import { builtinThumbnails, fileThumbnails, scanResult } from './thumbnails';
import { weightsPort } from './weights-port';

/**
 * The real engine behind the WorkbenchService: the run store on disk, the data module's scanner,
 * the exporters and a trainer process per run. tfjs is imported lazily (backend info, exports), so
 * serve starts fast and the host stays light while the trainer process does the work.
 */

/**
 * A TrainerPort over a TrainerHost: it validates every event, picks new runs' folders, and records
 * a run's end in its folder when the process dies. A malformed message from the trainer becomes a
 * warning in the run's log.
 */
export function hostTrainer(channel: TrainerChannel, runsDir: string): TrainerPort {
  const host = new TrainerHost(channel);
  return {
    start: (r) => host.start({ runsDir, ...r }),
    resumeRun: (dir) => host.resumeRun(dir),
    send: (command) => host.send(command),
    onEvent: (l) => {
      host.on('event', l);
      host.on('invalid', (x) => l({ type: 'log', level: 'warn', message: `Ignored a malformed message from the trainer (${x.reason}).`, time: Date.now() }));
    },
    onExit: (l) => {
      host.on('exit', (x) => l({ code: x.code, signal: x.signal, message: x.finished ? undefined : x.message }));
    },
    close: async (graceMs) => {
      await host.close(graceMs);
    },
    kill: () => host.kill(),
  };
}

function toApiRun(r: store.RunInfo): RunInfo {
  const { epoch, epochStep, stepsPerEpoch, step, epochs } = r.progress;
  const fields = runFields({
    runId: r.id, status: r.status, reason: r.reason, message: r.message ?? null,
    step, epoch, epochStep, stepsPerEpoch, epochs, best: r.best, lastValAccuracy: r.lastValAccuracy,
  });
  return { id: r.id, name: r.name, created: r.created, variant: r.variant, dataset: r.dataset, ...fields };
}

/**
 * Where a run folder really is, when that is not directly inside the store: a runs/<id> that is a
 * symlink elsewhere. Null when it is inside (or does not exist).
 */
function escapesStore(runsDir: string, dir: string): string | null {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    return null;
  }
  return real === path.join(fs.realpathSync(runsDir), path.basename(dir)) ? null : real;
}

/** Run ids are folder names under the store; anything else is refused before touching the disk. */
function runDir(runsDir: string, id: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(id) || id === '.' || id === '..') throw new WorkbenchError(`Run id ${JSON.stringify(id)} is not valid.`);
  const dir = path.join(runsDir, id);
  const real = escapesStore(runsDir, dir);
  if (real !== null) throw new WorkbenchError(`Run ${id} is a link to ${real}, outside the run store ${runsDir}; only runs inside the store are opened.`);
  return store.resolveRunDir(dir, runsDir);
}

export function fileRunStore(runsDir: string): RunStorePort {
  const info = (dir: string) => {
    const id = path.basename(dir);
    const found = store.listRuns(runsDir).find((r) => r.id === id);
    if (!found) throw new WorkbenchError(`Run ${id} cannot be read; its config.json may be damaged.`);
    return toApiRun(found);
  };
  return {
    async list() {
      return store.listRuns(runsDir).filter((r) => escapesStore(runsDir, r.dir) === null).map(toApiRun);
    },
    async open(id) {
      const dir = runDir(runsDir, id);
      const opened = store.readRun(dir);
      return {
        info: info(dir),
        dir,
        model: opened.config.model,
        settings: opened.config.settings,
        dataset: opened.config.dataset.spec,
        classes: opened.config.dataset.classes,
      };
    },
    async events(id) {
      return store.readMetrics(runDir(runsDir, id)).events;
    },
    async follow(id, onEvents) {
      const dir = runDir(runsDir, id);
      const file = path.join(dir, METRICS_FILE);
      const { events, end } = readMetricsFile(file);
      const follower = new MetricsFollower(file, onEvents, end);
      follower.start();
      return { events, stop: () => follower.stop() };
    },
    async rename(id, name) {
      const dir = runDir(runsDir, id);
      store.renameRun(dir, name);
      return info(dir);
    },
    async remove(id) {
      store.deleteRun(runDir(runsDir, id));
    },
  };
}

export interface EnginePortsOptions {
  runsDir: string;
  /**
   * Starts one trainer process for a run with these settings (fork for serve/CLI, utilityProcess
   * for Electron); the settings say which engine it should be.
   */
  createChannel(settings?: TrainSettings): TrainerChannel;
}

export function enginePorts(options: EnginePortsOptions): EnginePorts {
  let backend: Promise<BackendInfo> | null = null;
  function backendInfo(): Promise<BackendInfo> {
    // The host's own view of the backends; the trainer reports the one it used in each run's config.
    backend ??= Promise.all([import('../engine/backend'), import('../engine/pytorch/detect')]).then(async ([{ initBackend }, { detectPyTorch }]) => {
      const [r, d] = await Promise.all([initBackend('auto'), detectPyTorch()]);
      const gpu = d.probe?.gpus?.[0];
      const pytorch = {
        python: d.python, gpu: d.gpu, why: d.why, passedOver: d.passedOver.map((p) => ({ python: p.python, reason: p.reason })),
        ...(d.probe?.torch ? { torch: d.probe.torch } : {}),
        ...(gpu ? { device: gpu.name, memoryBytes: gpu.memoryBytes } : d.probe?.cpu ? { device: d.probe.cpu, memoryBytes: d.probe.memoryBytes ?? null } : {}),
      };
      return { name: r.name, flavour: r.flavour, version: r.version, device: r.device, threads: r.threads, simd: r.simd, skipped: r.skipped.map((s) => ({ backend: s.backend, reason: s.reason })), pytorch };
    });
    return backend;
  }
  return {
    spawnTrainer: (settings) => hostTrainer(options.createChannel(settings), options.runsDir),
    runs: fileRunStore(options.runsDir),
    async scan(dataset: DatasetSpec, inputShape, thumbnailsPerClass): Promise<ScanResult> {
      const data = await import('../engine/data');
      if (dataset.kind === 'builtin') {
        return builtinThumbnails(dataset, thumbnailsPerClass);
      }
      // The same scan as `densenet-workbench scan` and training: every image decoded, so all three
      // accept the same files.
      const report = await data.scanDataset(dataset, { inputShape });
      return scanResult(report, await fileThumbnails(report.samples ?? {}, thumbnailsPerClass));
    },
    backendInfo,
    weights: weightsPort(),
    async exportRun(r): Promise<ExportResult> {
      if (r.format === 'tfjs' || r.format === 'onnx' || r.format === 'torchvision') {
        // Rebuilding the model needs a started backend (tfjs refuses a registered, unstarted one).
        await backendInfo();
        const { exportRun } = await import('../engine/export/export-run');
        const result = await exportRun(r.runDir, { format: r.format, out: r.outDir, foldBn: r.foldBn, checkpoint: r.checkpoint });
        return { outDir: result.dir, files: result.files };
      }
      if (r.format === 'report') {
        // The self-contained HTML report, with the metrics CSV beside it.
        const { writeRunReport } = await import('../engine/report/write-report');
        const written = writeRunReport(r.runDir, path.join(r.outDir, 'report.html'));
        return { outDir: r.outDir, files: [written.html, written.csv] };
      }
      const [{ metricsCsv }, { writeOutputFile }] = await Promise.all([import('../engine/report/csv'), import('../engine/export/output-files')]);
      const file = path.join(r.outDir, 'metrics.csv');
      writeOutputFile(file, metricsCsv(store.readMetrics(r.runDir).events));
      return { outDir: r.outDir, files: [file] };
    },
  };
}
