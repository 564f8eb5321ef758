import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import { isTrainerEvent, type HostEvent, type OpenedRun, type RunInfo } from '../../../shared/api';
import type { DenseNetConfig } from '../../../shared/config';
import { isLive, type LiveStatus } from '../../../shared/run/lifecycle';
import { initialRunState, reduceRun, stateOfFields, type RunState } from '../../../shared/run/state';
import type { DatasetSpec, TrainSettings } from '../../../shared/training';
import { api } from '../api/current';
import { useAppStore } from './app';
import { RunRecord, runIdOf } from './series';

/**
 * The run on screen: the live one, or a past one reopened from its metrics.jsonl. Its curves live
 * in a markRaw RunRecord; `version` is bumped (at most once a frame) when it changes, and the charts
 * redraw in place on it. Where it stands (`run`) comes from the same reducer the trainer writes
 * status.json with (shared/run/state.ts): the host's trainer's run (`active`) is reduced from the
 * live events, a stored run starts from its listing.
 */
export const useSessionStore = defineStore('session', () => {
  const runId = ref<string | null>(null);
  const info = shallowRef<RunInfo | null>(null);
  const model = shallowRef<DenseNetConfig | null>(null);
  const settings = shallowRef<TrainSettings | null>(null);
  const dataset = shallowRef<DatasetSpec | null>(null);
  const classes = shallowRef<string[]>([]);
  const record = shallowRef<RunRecord>(markRaw(new RunRecord()));
  const version = ref(0);
  /** The host's trainer's run, whatever run is on screen; null when it has started none. */
  const active = shallowRef<RunState | null>(null);
  /** The on-screen run as its listing had it, when it is not the active run. */
  const stored = shallowRef<RunState | null>(null);
  let pending = false;

  /** Where the run on screen stands. */
  const run = computed<RunState | null>(() => (runId.value !== null && active.value?.runId === runId.value ? active.value : stored.value));
  /** The on-screen run's status while the host's trainer works on it; null otherwise. */
  const liveStatus = computed<LiveStatus | null>(() => {
    const a = active.value;
    return a && a.runId === runId.value && isLive(a.status) ? a.status : null;
  });

  const bump = () => {
    if (pending) return;
    pending = true;
    const raf = typeof requestAnimationFrame === 'function' ? requestAnimationFrame : (f: () => void) => setTimeout(f, 16);
    raf(() => {
      pending = false;
      version.value++;
    });
  };

  function reset(id: string | null) {
    runId.value = id;
    stored.value = null;
    record.value = markRaw(new RunRecord());
    version.value++;
  }

  /** The run `id` is gone (deleted): take it off screen, so nothing offers to export or inspect it. */
  function forget(id: string) {
    if (runId.value !== id) return;
    reset(null);
    info.value = null;
    model.value = null;
    settings.value = null;
    dataset.value = null;
    classes.value = [];
  }

  function show(opened: OpenedRun) {
    reset(opened.info.id);
    info.value = opened.info;
    stored.value = stateOfFields(opened.info.id, opened.info);
    model.value = opened.model;
    settings.value = opened.settings;
    dataset.value = opened.dataset;
    classes.value = opened.classes;
    for (const e of opened.events) record.value.add(e);
    version.value++;
  }

  /**
   * The host has been asked to train run `id`: a new run (from scratch) or, after `show`, a stored
   * one it goes on with. Its events will arrive; until then it is `created`.
   */
  function expect(id: string, epochs: number | null) {
    const from = id === runId.value ? stored.value : null;
    active.value = from ? { ...from, status: 'created', reason: null, message: null } : initialRunState(id, epochs);
  }

  /**
   * Live events: the active run's state follows them, and so does a run on screen that another
   * process trains (the host follows its metrics.jsonl); data goes to the record on screen.
   */
  function ingest(e: HostEvent) {
    if (e.type === 'trainerExit') {
      useAppStore().notify(e.message, 'error', 'Open the run in Runs and press Continue to resume from its last checkpoint.');
    } else if (e.type === 'error') {
      useAppStore().notify(e.error.message, e.fatal ? 'error' : 'warn', e.fatal ? 'The run stopped. Fix the cause, then start a new run or continue this one.' : undefined);
    }
    const id = runIdOf(e);
    if (isTrainerEvent(e)) {
      const a = active.value;
      if (a && (id === undefined || id === a.runId)) active.value = reduceRun(a, e);
      else if (id !== undefined && id === runId.value && stored.value) stored.value = reduceRun(stored.value, e);
      else if (e.type === 'state' && e.state === 'created' && id) active.value = reduceRun(initialRunState(id), e);
    }
    const mine = id === undefined ? e.type === 'log' && active.value?.runId === runId.value : id === runId.value;
    if (mine && record.value.add(e)) bump();
  }

  async function open(id: string) {
    const opened = await api().openRun({ runId: id });
    show(opened);
  }

  async function refreshActive() {
    active.value = await api().activeRun();
  }

  return { runId, info, model, settings, dataset, classes, record, version, active, run, liveStatus, reset, forget, show, expect, ingest, open, refreshActive };
});
