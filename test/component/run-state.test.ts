// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { OpenedRun, RunInfo, WorkbenchApi } from '../../shared/api';
import { defaultTrainSettings } from '../../shared/training';
import { setApi } from '../../renderer/src/api/current';
import { useAppStore } from '../../renderer/src/stores/app';
import { useRunsStore } from '../../renderer/src/stores/runs';
import { useSessionStore } from '../../renderer/src/stores/session';
import DashboardView from '../../renderer/src/views/DashboardView.vue';
import { installFakeCanvas } from '../support/fake-canvas';

/** What a run on screen shows when the run changes under it: reports from a user, reproduced. */
const model = { variant: 'custom', blocks: [2, 2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'cifar' as const, dropRate: 0, inputShape: [8, 8, 1] as [number, number, number], classes: 2 };
const info = (id: string): RunInfo => ({ id, name: id, status: 'finished', reason: 'completed', created: new Date(0).toISOString(), variant: 'custom', dataset: 'toy', epoch: 2, epochs: 2, step: 6, bestValAccuracy: 0.5, lastValAccuracy: 0.5 });
const opened = (id: string): OpenedRun => ({
  info: info(id), model, settings: defaultTrainSettings(), dataset: { kind: 'builtin', name: 'mnist', limit: 10 }, classes: ['a', 'b'],
  events: [{ type: 'finished', runId: id, reason: 'completed', step: 6, epoch: 2, bestValAccuracy: 0.5, time: 1 }],
});

function fakeApi(runs: RunInfo[]) {
  const api = {
    listRuns: async () => [...runs],
    deleteRun: async ({ runId }: { runId: string }) => {
      runs.splice(runs.findIndex((r) => r.id === runId), 1);
      return null;
    },
  } as unknown as WorkbenchApi;
  return api;
}

describe('a run that goes away', () => {
  it('deleted from Runs: leaves the screen, and no Export is offered for it', async () => {
    installFakeCanvas();
    setActivePinia(createPinia());
    setApi(fakeApi([info('r1'), info('r2')]));
    const session = useSessionStore();
    const app = useAppStore();
    session.show(opened('r1'));
    const dash = mount(DashboardView);
    expect(dash.find('[data-test=export]').exists()).toBe(true);
    app.exportOpen = true;
    await useRunsStore().remove('r1');
    await flushPromises();
    expect(session.runId).toBeNull();
    expect(session.model).toBeNull();
    expect(app.exportOpen).toBe(false);
    expect(dash.find('[data-test=export]').exists()).toBe(false);
    expect(dash.text()).toContain('No run on screen');
  });

  it('deleted elsewhere (another window, a shell): the next refresh takes it off screen and says so', async () => {
    setActivePinia(createPinia());
    const runs = [info('r1')];
    setApi(fakeApi(runs));
    const session = useSessionStore();
    session.show(opened('r1'));
    runs.length = 0;
    await useRunsStore().refresh();
    expect(session.runId).toBeNull();
    expect(useAppStore().banners.at(-1)?.message).toBe('Run r1 is no longer in the run store; it was deleted.');
  });

  it('keeps the live run on screen while its folder is not listed yet', async () => {
    setActivePinia(createPinia());
    setApi(fakeApi([]));
    const session = useSessionStore();
    session.reset('r3');
    session.expect('r3', 2);
    await useRunsStore().refresh();
    expect(session.runId).toBe('r3');
  });
});
