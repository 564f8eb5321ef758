import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { HostEvent } from '../../../shared/api';
import type { InspectWhat } from '../../../shared/protocol';
import { api } from '../api/current';
import { requestInspection } from './requests';
import { useSessionStore } from './session';

/**
 * Inspection requests of the run on screen, whatever its state: a live run is answered by its
 * trainer, a finished, stopped or interrupted one by a worker from the checkpoint chosen here.
 * Tracks each request from the answer's id through `inspectProgress` to `inspectDone`, so every
 * screen can show progress, a Cancel button, and an error where it happened instead of a banner.
 */
export interface InspectJob {
  requestId: string;
  runId: string;
  what: InspectWhat;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  done: number;
  total: number;
  message: string;
  error: string | null;
}

export const useInspectStore = defineStore('inspect', () => {
  const session = useSessionStore();
  /** The checkpoint runs that are not training are inspected from (live runs use their current weights). */
  const checkpoint = ref<'best' | 'latest'>('best');
  const jobs = ref<InspectJob[]>([]);
  /** A graph node another screen asked Architecture to open (the ablation overview's columns). */
  const focus = ref<string | null>(null);

  const live = computed(() => session.liveStatus === 'running' || session.liveStatus === 'paused');
  /** A run on screen that can be inspected now: live (running, paused) or resting (not loading, not stopping). */
  const available = computed(() => session.runId !== null && session.liveStatus !== 'created' && session.liveStatus !== 'stopping');

  /** The newest request of `what` for the run on screen. */
  function latest(what: InspectWhat): InspectJob | null {
    for (let i = jobs.value.length - 1; i >= 0; i--) {
      const j = jobs.value[i];
      if (j.what === what && j.runId === session.runId) return j;
    }
    return null;
  }

  function busy(what: InspectWhat): boolean {
    return latest(what)?.state === 'running';
  }

  async function request(what: InspectWhat, sample?: number): Promise<void> {
    const runId = session.runId;
    if (!runId) return;
    const job: InspectJob = { requestId: '', runId, what, state: 'running', done: 0, total: 0, message: 'Requested…', error: null };
    jobs.value = [...jobs.value.slice(-19), job];
    // Through the request banners (./requests), which also settle when the inspection ends.
    const ticket = await requestInspection({
      runId, what, ...(sample !== undefined ? { sample } : {}), ...(live.value ? {} : { checkpoint: checkpoint.value }),
    });
    if (ticket) update(job, { requestId: ticket.requestId });
    else update(job, { state: 'failed', error: 'The request could not be sent; see the message above.' });
  }

  async function cancel(job: InspectJob): Promise<void> {
    if (!job.requestId || job.state !== 'running') return;
    try {
      await api().cancelInspect({ requestId: job.requestId });
      update(job, { message: 'Cancelling…' });
    } catch (err) {
      update(job, { state: 'failed', error: err instanceof Error ? err.message : String(err) });
    }
  }

  function update(job: InspectJob, patch: Partial<InspectJob>): void {
    Object.assign(job, patch);
    jobs.value = [...jobs.value];
  }

  function ingest(e: HostEvent): void {
    if (e.type !== 'inspectProgress' && e.type !== 'inspectDone') return;
    const job = jobs.value.find((j) => j.requestId === e.requestId);
    if (!job) return;
    if (e.type === 'inspectProgress') {
      update(job, { done: e.done, total: e.total, message: e.message ?? job.message });
    } else {
      update(job, e.ok ? { state: 'done', done: job.total } : { state: e.cancelled ? 'cancelled' : 'failed', error: e.error?.message ?? 'The inspection failed.' });
    }
  }

  return { checkpoint, jobs, focus, live, available, latest, busy, request, cancel, ingest };
});
