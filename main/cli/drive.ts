import fs from 'node:fs';
import { Presets, SingleBar } from 'cli-progress';
import { WorkbenchError } from '../../shared/errors';
import type { TrainerEvent, TrainerEventOf } from '../../shared/protocol';
import type { HostExit, TrainerHost } from '../trainer/host';
import { duration, formatLr, percent } from '../../shared/format';

/**
 * Drives one run of a TrainerHost from a terminal, for `train` and `resume`: a cli-progress bar
 * (epoch, step, loss, accuracy, images/s, ETA) and one line per epoch, or one JSON event per line
 * with `json`. The first Ctrl-C stops the run cleanly (checkpoint, then `finished`); a second one
 * kills the trainer, which leaves the run `interrupted` and resumable from its last checkpoint.
 */
export interface DriveOptions {
  json: boolean;
  /** Total epochs of the run, for the progress line. */
  epochs: number;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

export interface DriveResult {
  runId: string;
  runDir: string;
  finished: TrainerEventOf<'finished'> | null;
  exit: HostExit | null;
}

const pct = (x: number | null | undefined) => percent(x, 2);

export async function driveRun(host: TrainerHost, run: { runId: string; runDir: string }, options: DriveOptions): Promise<DriveResult> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const tty = !options.json && (out as NodeJS.WriteStream).isTTY === true;
  const bar = tty
    ? new SingleBar({
      format: 'epoch {epoch}/{epochs} |{bar}| step {value}/{total} | loss {loss} | acc {acc} | {ips} img/s | ETA {eta2}',
      hideCursor: true, clearOnComplete: true, stream: out as NodeJS.WriteStream,
    }, Presets.shades_classic)
    : null;
  let barActive = false;
  let lastPlainLine = 0;
  // ETA over the whole run from the mean step time since this process started.
  const t0 = Date.now();
  let firstStep: number | null = null;

  const print = (line: string) => {
    if (bar && barActive) {
      bar.stop();
      barActive = false;
    }
    out.write(line + '\n');
  };

  const onEvent = (e: TrainerEvent) => {
    if (options.json) {
      out.write(JSON.stringify(e) + '\n');
      return;
    }
    switch (e.type) {
      case 'step': {
        firstStep ??= e.step - 1;
        const done = e.step - firstStep;
        const total = options.epochs * e.stepsPerEpoch;
        const eta = ((Date.now() - t0) / 1000 / Math.max(1, done)) * (total - e.step);
        const payload = {
          epoch: e.epoch + 1, epochs: options.epochs, loss: e.loss.toFixed(4), acc: pct(e.accuracy),
          ips: e.imagesPerSec.toFixed(1), eta2: duration(eta, 'compact'),
        };
        if (bar) {
          if (!barActive) {
            bar.start(e.stepsPerEpoch, e.epochStep, payload);
            barActive = true;
          }
          bar.update(e.epochStep, payload);
        } else if (Date.now() - lastPlainLine > 10_000) {
          // Not a terminal (a log file, CI): a progress line every 10 s instead of a bar.
          lastPlainLine = Date.now();
          out.write(`epoch ${payload.epoch}/${options.epochs} step ${e.epochStep}/${e.stepsPerEpoch} loss ${payload.loss} acc ${payload.acc} ${payload.ips} img/s ETA ${payload.eta2}\n`);
        }
        break;
      }
      case 'epoch':
        print(`epoch ${e.epoch + 1}/${options.epochs}: loss ${e.loss.toFixed(4)}, acc ${pct(e.accuracy)}, val loss ${e.valLoss?.toFixed(4) ?? '–'}, val acc ${pct(e.valAccuracy)}, lr ${formatLr(e.lr)}, ${e.seconds.toFixed(1)} s`);
        break;
      case 'log':
        if (e.level !== 'debug') print(e.level === 'info' ? e.message : `${e.level}: ${e.message}`);
        break;
      case 'error':
        if (!e.fatal) print(`warning: ${e.error.message}`);
        break;
      default:
        break;
    }
  };

  const offEvent = host.on('event', onEvent);
  const offInvalid = host.on('invalid', (x) => err.write(`densenet-workbench: ignored a malformed trainer message (${x.reason}).\n`));
  let fatal: TrainerEventOf<'error'> | null = null;
  const offFatal = host.on('event', (e) => {
    if (e.type === 'error' && e.fatal) fatal = e;
  });
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1 && host.alive) {
      const notice = 'Stopping after this step and saving a checkpoint… (Ctrl-C again to kill the trainer)';
      // With --json, stdout carries only events.
      if (options.json) err.write(notice + '\n');
      else print(notice);
      try { host.stop(); } catch { /* already gone */ }
    } else {
      host.kill('SIGKILL');
    }
  };
  process.on('SIGINT', onSigint);

  try {
    const end = await host.finished();
    if (bar && barActive) bar.stop();
    const finished = 'type' in end ? end : null;
    const exit = 'type' in end ? null : end;
    if (!options.json) {
      if (finished) {
        out.write(`Run ${run.runId} ${finished.reason} at epoch ${finished.epoch}, step ${finished.step}; best val acc ${pct(finished.bestValAccuracy)}.\n`);
        // A run refused before its first step (it cannot fit, say) has no folder to point at.
        if (fs.existsSync(run.runDir)) out.write(`Run folder: ${run.runDir}\n`);
      }
    }
    if (exit) throw new WorkbenchError(exit.message, { user: false });
    const f = fatal as TrainerEventOf<'error'> | null;
    if (finished && (finished.reason === 'failed' || finished.reason === 'diverged') && f) {
      throw new WorkbenchError(f.error.message, { user: f.error.user ?? finished.reason === 'diverged' });
    }
    return { ...run, finished, exit };
  } finally {
    process.off('SIGINT', onSigint);
    offEvent();
    offInvalid();
    offFatal();
  }
}
