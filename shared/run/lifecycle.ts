import { z } from 'zod';

/**
 * The run lifecycle: the one vocabulary for where a run stands, used by the trainer (status.json,
 * its events), the hosts (the active run, the run list) and the renderer (Dashboard, Runs).
 *
 *   created ──▶ running ⇄ paused
 *      │           │        │
 *      └───────────┴────────┴──▶ stopping ──▶ finished (completed | stopped | early-stopped | diverged)
 *                                          ├─▶ failed        (an error ended it)
 *   any live status ─────────────────────── └─▶ interrupted   (its trainer went away: killed, host gone)
 *
 * `created`: the run has been asked for and its trainer is loading the data and building the model.
 * A run that is not live can be continued: its next session starts again at `created`.
 */
export const LIVE_STATUSES = ['created', 'running', 'paused', 'stopping'] as const;
export const END_STATUSES = ['finished', 'failed', 'interrupted'] as const;

export const RunStatusSchema = z.enum([...LIVE_STATUSES, ...END_STATUSES]);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** The statuses a run has while a trainer works on it: what the `state` event announces. */
export const LiveStatusSchema = z.enum(LIVE_STATUSES);
export type LiveStatus = z.infer<typeof LiveStatusSchema>;

/** Why a `finished` run finished. */
export const FinishReasonSchema = z.enum(['completed', 'stopped', 'early-stopped', 'diverged']);
export type FinishReason = z.infer<typeof FinishReasonSchema>;

/** How a trainer session ended, as its `finished` event and summary.json say: a reason, or the end status itself. */
export const RunEndSchema = z.enum([...FinishReasonSchema.options, 'failed', 'interrupted']);
export type RunEnd = z.infer<typeof RunEndSchema>;

const NEXT: Record<RunStatus, readonly RunStatus[]> = {
  created: ['running', 'paused', 'stopping', 'finished', 'failed', 'interrupted'],
  running: ['paused', 'stopping', 'finished', 'failed', 'interrupted'],
  paused: ['running', 'stopping', 'finished', 'failed', 'interrupted'],
  stopping: ['finished', 'failed', 'interrupted'],
  finished: ['created'],
  failed: ['created'],
  interrupted: ['created'],
};

/** Whether the lifecycle allows `from` → `to`. */
export function canMove(from: RunStatus, to: RunStatus): boolean {
  return from === to || NEXT[from].includes(to);
}

export function isLive(status: RunStatus): status is LiveStatus {
  return (LIVE_STATUSES as readonly string[]).includes(status);
}

/** The status and reason a session's end means. */
export function endStatus(end: RunEnd): { status: (typeof END_STATUSES)[number]; reason: FinishReason | null } {
  return end === 'failed' || end === 'interrupted' ? { status: end, reason: null } : { status: 'finished', reason: end };
}

/** The session end a status and reason stand for (the inverse of endStatus), or null while live. */
export function endOf(status: RunStatus, reason: FinishReason | null): RunEnd | null {
  if (status === 'finished') return reason ?? 'completed';
  return status === 'failed' || status === 'interrupted' ? status : null;
}

/** A run that stopped before its planned end and can go on from its last checkpoint. */
export function isResumable(status: RunStatus, reason: FinishReason | null): boolean {
  return status === 'failed' || status === 'interrupted' || (status === 'finished' && (reason === 'stopped' || reason === 'diverged'));
}

/**
 * The one word every view shows for a run's status: `loading` while created, `stopped` for a run
 * the user stopped, `diverged` for one whose loss diverged, else the status itself.
 */
export function statusLabel(status: RunStatus, reason: FinishReason | null): string {
  if (status === 'created') return 'loading';
  if (status === 'finished' && (reason === 'stopped' || reason === 'diverged')) return reason;
  return status;
}

export interface Progress {
  /** 0-based: the epoch in progress, or at an epoch boundary the next one to run. */
  epoch: number;
  /** Steps already done in `epoch`. */
  epochStep: number;
}

/**
 * The epoch a view shows, 1-based: the one in progress mid-epoch, and the number of epochs done at
 * an epoch boundary (so a run stopped after 3 full epochs of 15 shows 3 / 15, and 4 / 15 once a
 * step of the fourth is done).
 */
export function shownEpoch(p: Progress, epochs?: number | null): number {
  const begun = p.epoch + (p.epochStep > 0 ? 1 : 0);
  return epochs ? Math.min(begun, epochs) : begun;
}

/** An epoch index (0-based, as events and `best` record it) as people count it. */
export function epochNumber(index: number): number {
  return index + 1;
}
