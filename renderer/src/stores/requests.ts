import type { HostEvent, InspectRequest, InspectTicket } from '../../../shared/api';
import { CHECKPOINT_WRITTEN_PATTERN } from '../../../shared/protocol';
import { api } from '../api/current';
import { useAppStore } from './app';

/**
 * Requests the user makes of the trainer (a checkpoint, an inspection) and their banners: one
 * banner per kind of request, "requested…" while it runs, then what came back, then gone. A
 * result event settles its request; an error from the trainer, or the run ending, settles every
 * request still pending, since no answer will come for them.
 */
type What = InspectRequest['what'];

const NOUN: Record<What, string> = {
  stats: 'Layer statistics',
  gradients: 'Gradient norms',
  contributions: 'Contribution matrices',
  activations: 'Activation maps',
  ablation: 'The ablation',
  evaluation: 'The evaluation',
};
const RESULT: Partial<Record<HostEvent['type'], What>> = {
  layerStats: 'stats',
  gradients: 'gradients',
  contributions: 'contributions',
  activations: 'activations',
  ablation: 'ablation',
  evaluation: 'evaluation',
};

export const SNAPSHOT_KEY = 'snapshot';
export const inspectKey = (what: What) => `inspect:${what}`;

/**
 * Sends an inspect request and shows it as pending until its result (or an error) comes.
 * Resolves with the request's ticket (its id names its progress and end events), or null when it
 * could not be sent (the banner says why).
 */
export async function requestInspection(request: InspectRequest): Promise<InspectTicket | null> {
  const app = useAppStore();
  try {
    app.pending(inspectKey(request.what), `${NOUN[request.what]} requested${request.what === 'activations' ? ` for image ${request.sample ?? 0}` : ''}…`, request.what === 'ablation' ? 'The ablation overview zeroes every dense layer in turn, in one pass over the validation split; its progress shows on the Evaluation screen.' : undefined);
    return await api().inspect(request);
  } catch (err) {
    app.settle(inspectKey(request.what), `${NOUN[request.what]} could not be requested.`, 'warn');
    app.report(err);
    return null;
  }
}

/** Asks for a checkpoint now; the banner settles when the trainer says it is written. */
export async function requestSnapshot(): Promise<void> {
  const app = useAppStore();
  try {
    app.pending(SNAPSHOT_KEY, 'Checkpoint requested; it is written at the end of the current step.');
    await api().snapshotRun();
  } catch (err) {
    app.settle(SNAPSHOT_KEY, 'The checkpoint could not be requested.', 'warn');
    app.report(err);
  }
}

/** Settles pending requests from one live event. */
export function observeRequests(e: HostEvent): void {
  const app = useAppStore();
  const what = RESULT[e.type];
  if (what) {
    const at = 'step' in e && typeof e.step === 'number' ? ` (step ${e.step})` : '';
    app.settle(inspectKey(what), `${NOUN[what]} arrived${at}.`);
    return;
  }
  // Every inspection ends with `inspectDone`: after its result (already settled above), or with why not.
  if (e.type === 'inspectDone') {
    if (e.ok) app.settle(inspectKey(e.what), `${NOUN[e.what]} arrived.`);
    else if (e.cancelled) app.settle(inspectKey(e.what), `${NOUN[e.what]}: cancelled.`);
    else app.settle(inspectKey(e.what), `${NOUN[e.what]} did not come: ${e.error?.message ?? 'the trainer could not compute it.'}`, 'warn');
    return;
  }
  // Long ones (ablation, evaluation) say how far they are, in the same banner.
  if (e.type === 'inspectProgress') {
    const key = inspectKey(e.what);
    const b = app.banners.find((x) => x.key === key && x.pending);
    if (b && e.total > 0) app.pending(key, `${NOUN[e.what]}: ${Math.min(100, Math.round((e.done / e.total) * 100))}%${e.message ? ` · ${e.message}` : ''}`, b.hint);
    return;
  }
  if (e.type === 'log' && CHECKPOINT_WRITTEN_PATTERN.test(e.message)) {
    app.settle(SNAPSHOT_KEY, e.message);
  } else if (e.type === 'error' || e.type === 'finished' || e.type === 'trainerExit') {
    // Nothing more will answer the requests still pending: say so instead of leaving them spinning.
    const why = e.type === 'error' ? 'the trainer reported an error (see above).' : 'the run ended first.';
    for (const b of app.banners.filter((x) => x.pending && x.key)) {
      const noun = b.key === SNAPSHOT_KEY ? 'The checkpoint' : NOUN[b.key!.slice('inspect:'.length) as What] ?? 'The request';
      app.settle(b.key!, `${noun} did not come: ${why}`, 'warn');
    }
  }
}
