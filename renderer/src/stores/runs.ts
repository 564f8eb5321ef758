import { defineStore } from 'pinia';
import { markRaw, ref, shallowRef } from 'vue';
import type { RunInfo } from '../../../shared/api';
import { api } from '../api/current';
import { useAppStore } from './app';
import { RunRecord } from './series';
import { useSessionStore } from './session';

/** The history from the run store, and the runs whose curves are overlaid. */
export const useRunsStore = defineStore('runs', () => {
  const list = ref<RunInfo[]>([]);
  const loading = ref(false);
  /** runId -> its recorded curves, for the overlay chart. */
  const overlays = shallowRef(new Map<string, { name: string; record: RunRecord }>());

  async function refresh() {
    loading.value = true;
    try {
      list.value = await api().listRuns();
    } finally {
      loading.value = false;
    }
    // The run on screen was deleted (here or from another window): take it off screen. The live
    // run is kept, as its folder may not be listed until its trainer has written its config.
    const session = useSessionStore();
    const id = session.runId;
    if (id && id !== session.active?.runId && !list.value.some((r) => r.id === id)) {
      session.forget(id);
      useAppStore().exportOpen = false;
      useAppStore().notify(`Run ${id} is no longer in the run store; it was deleted.`, 'warn');
    }
  }

  async function toggleOverlay(id: string) {
    const next = new Map(overlays.value);
    if (next.has(id)) {
      next.delete(id);
    } else {
      const opened = await api().openRun({ runId: id });
      const record = new RunRecord();
      for (const e of opened.events) record.add(e);
      next.set(id, { name: opened.info.name, record: markRaw(record) });
    }
    overlays.value = next;
  }

  async function rename(id: string, name: string) {
    await api().renameRun({ runId: id, name });
    await refresh();
  }

  async function remove(id: string) {
    await api().deleteRun({ runId: id });
    const session = useSessionStore();
    if (session.runId === id) {
      session.forget(id);
      useAppStore().exportOpen = false;
    }
    const next = new Map(overlays.value);
    next.delete(id);
    overlays.value = next;
    await refresh();
  }

  return { list, loading, overlays, refresh, toggleOverlay, rename, remove };
});
