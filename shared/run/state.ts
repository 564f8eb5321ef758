import { z } from 'zod';
import type { TrainerEvent } from '../protocol';
import { FinishReasonSchema, RunStatusSchema, canMove, endStatus, isLive, shownEpoch } from './lifecycle';

/**
 * A run's state as its event stream leaves it: the reducer below is the only code that turns
 * events into a status, a progress and a best result. The trainer runs it over the events it
 * emits and writes the result to status.json; the host runs it over the events it receives (the
 * active run, the run list); the renderer runs it over a reopened run's metrics and the live
 * events. Fed the same events, they cannot disagree.
 */
const count = z.number().int().min(0);
const finite = z.number().finite();

/** The epoch with the best validation accuracy so far (its 0-based index) and the step it ended at. */
export const BestSchema = z.object({ valAccuracy: finite.nullable(), valLoss: finite.nullable(), epoch: count, step: count });
export type BestMetrics = z.infer<typeof BestSchema>;

export const RunStateSchema = z.object({
  runId: z.string().nullable(),
  status: RunStatusSchema,
  /** Set while `finished`: why. */
  reason: FinishReasonSchema.nullable(),
  /** Why the run ended, in a sentence, when it did not simply complete; cleared when it goes on. */
  message: z.string().nullable(),
  step: count,
  /** 0-based: the epoch in progress, or at an epoch boundary the next one to run. */
  epoch: count,
  epochStep: count,
  stepsPerEpoch: z.number().int().min(1),
  /** Planned epochs (the run's settings), when known. */
  epochs: z.number().int().min(1).nullable(),
  best: BestSchema.nullable(),
  /** Validation accuracy after the last epoch; null before the first or without a validation split. */
  lastValAccuracy: finite.nullable(),
});
export type RunState = z.infer<typeof RunStateSchema>;

export function initialRunState(runId: string | null, epochs: number | null = null): RunState {
  return {
    runId, status: 'created', reason: null, message: null,
    step: 0, epoch: 0, epochStep: 0, stepsPerEpoch: 1, epochs, best: null, lastValAccuracy: null,
  };
}

/**
 * The state after one event of the run. Events of other runs, and those that say nothing about
 * the lifecycle or progress, leave it as it is (the same object, so callers can skip work).
 * A status change the lifecycle does not allow is ignored, except the `created` that starts a new
 * session of an ended run.
 */
export function reduceRun(state: RunState, event: TrainerEvent): RunState {
  if ('runId' in event && event.runId !== undefined && state.runId !== null && event.runId !== state.runId) return state;
  switch (event.type) {
    case 'state': {
      if (!canMove(state.status, event.state)) return state;
      const runId = state.runId ?? event.runId ?? null;
      // A new session: whatever ended the last one no longer holds.
      if (event.state === 'created') return { ...state, runId, status: 'created', reason: null, message: null };
      return event.state === state.status && runId === state.runId ? state : { ...state, runId, status: event.state };
    }
    case 'step': {
      // Steps happen only while a trainer works on the run: after an end they begin a new session
      // (older run folders have no `created` line between sessions).
      const ended = !isLive(state.status);
      return {
        ...state,
        ...(state.status === 'created' || ended ? { status: 'running' as const } : {}),
        ...(ended ? { reason: null, message: null } : {}),
        step: event.step, epoch: event.epoch, epochStep: event.epochStep, stepsPerEpoch: event.stepsPerEpoch,
      };
    }
    case 'epoch': {
      const better = event.valAccuracy !== null && (state.best === null || state.best.valAccuracy === null || event.valAccuracy > state.best.valAccuracy);
      return {
        ...state,
        step: event.step, epoch: event.epoch + 1, epochStep: 0,
        lastValAccuracy: event.valAccuracy,
        best: better ? { valAccuracy: event.valAccuracy, valLoss: event.valLoss, epoch: event.epoch, step: event.step } : state.best,
      };
    }
    case 'finished': {
      const end = endStatus(event.reason);
      if (!isLive(state.status) && !canMove(state.status, end.status)) return state;
      return {
        ...state,
        ...end,
        message: event.message ?? (end.reason === 'completed' || end.reason === 'early-stopped' ? null : state.message),
        step: event.step,
        // The epoch index moves on only when a finished epoch is being reported (a completed run).
        epochStep: event.epoch === state.epoch ? state.epochStep : 0,
        epoch: event.epoch,
      };
    }
    case 'error':
      return event.fatal && isLive(state.status) ? { ...state, message: event.error.message } : state;
    default:
      return state;
  }
}

/** The state after a sequence of events (a reopened run's metrics.jsonl, say). */
export function replayRun(state: RunState, events: Iterable<TrainerEvent>): RunState {
  let s = state;
  for (const e of events) s = reduceRun(s, e);
  return s;
}

/**
 * What a run list shows of a run's state. Derived by `runFields` only, so the Runs list (from
 * status.json) and the Dashboard (from the live events) show the same status and the same epoch.
 */
export const RunFieldsSchema = z.object({
  status: RunStatusSchema,
  reason: FinishReasonSchema.nullable(),
  /** Why it ended, when it did not simply complete. */
  message: z.string().optional(),
  /** The epoch to show (lifecycle.ts `shownEpoch`): 1-based mid-epoch, the epochs done at a boundary. */
  epoch: count,
  epochs: count,
  step: count,
  bestValAccuracy: finite.nullable(),
  lastValAccuracy: finite.nullable(),
});
export type RunFields = z.infer<typeof RunFieldsSchema>;

export function runFields(s: RunState): RunFields {
  return {
    status: s.status,
    reason: s.reason,
    ...(s.message !== null ? { message: s.message } : {}),
    epoch: shownEpoch(s, s.epochs),
    epochs: s.epochs ?? 0,
    step: s.step,
    bestValAccuracy: s.best?.valAccuracy ?? null,
    lastValAccuracy: s.lastValAccuracy,
  };
}

/**
 * A state standing for a listed run, for what the list does not carry (the step within an epoch, the
 * best epoch): the next events of the run fill those in. `runFields` of it gives back `f`.
 */
export function stateOfFields(runId: string, f: RunFields): RunState {
  return {
    runId, status: f.status, reason: f.reason, message: f.message ?? null,
    step: f.step, epoch: f.epoch, epochStep: 0, stepsPerEpoch: 1, epochs: f.epochs || null,
    best: f.bestValAccuracy === null ? null : { valAccuracy: f.bestValAccuracy, valLoss: null, epoch: Math.max(0, f.epoch - 1), step: f.step },
    lastValAccuracy: f.lastValAccuracy,
  };
}
