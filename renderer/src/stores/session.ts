import { defineStore } from 'pinia';
import { markRaw, ref, shallowRef } from 'vue';
import type { ActiveRun, HostEvent, OpenedRun, RunInfo } from '../../../shared/api';
import type { DenseNetConfig } from '../../../shared/config';
import type { DatasetSpec, TrainSettings } from '../../../shared/training';
import { api } from '../api/current';
import { useAppStore } from './app';
import { RunRecord, runIdOf } from './series';

/**
 * The run on screen: the live one, or a past one reopened from its metrics.jsonl. Its data lives in
 * a markRaw RunRecord; `version` is bumped (at most once a frame) when it changes, and the charts
 * redraw in place on it.
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
  /** The host's live trainer (whatever run is on screen). */
  const active = ref<ActiveRun>({ runId: null, state: 'idle' });
  let pending = false;

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
    model.value = opened.model;
    settings.value = opened.settings;
    dataset.value = opened.dataset;
    classes.value = opened.classes;
    for (const e of opened.events) record.value.add(e);
    version.value++;
  }

  /** Live events: lifecycle updates the active-run status; data goes to the record on screen. */
  function ingest(e: HostEvent) {
    if (e.type === 'state') {
      active.value = { runId: e.runId ?? active.value.runId, state: e.state };
    } else if (e.type === 'finished') {
      active.value = { runId: e.runId, state: e.reason === 'failed' ? 'failed' : 'finished' };
    } else if (e.type === 'trainerExit') {
      active.value = { runId: e.runId ?? active.value.runId, state: 'failed' };
      useAppStore().notify(e.message, 'error', 'Open the run in Runs and press Continue to resume from its last checkpoint.');
    } else if (e.type === 'error') {
      useAppStore().notify(e.error.message, e.fatal ? 'error' : 'warn', e.fatal ? 'The run stopped. Fix the cause, then start a new run or continue this one.' : undefined);
    }
    const id = runIdOf(e);
    const mine = id === undefined ? e.type === 'log' && active.value.runId === runId.value : id === runId.value;
    if (mine && record.value.add(e)) bump();
  }

  async function open(id: string) {
    const opened = await api().openRun({ runId: id });
    show(opened);
  }

  async function refreshActive() {
    active.value = await api().activeRun();
  }

  return { runId, info, model, settings, dataset, classes, record, version, active, reset, forget, show, ingest, open, refreshActive };
});
