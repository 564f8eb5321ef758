// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it, vi } from 'vitest';
import type { OpenedRun, WorkbenchApi } from '../../shared/api';
import type { TrainerEvent } from '../../shared/protocol';
import { initialRunState, replayRun, runFields } from '../../shared/run/state';
import { setApi } from '../../renderer/src/api/current';
import { useSessionStore } from '../../renderer/src/stores/session';

// chart.js needs a canvas happy-dom lacks; the Dashboard's charts are not what is tested here.
vi.mock('chart.js', () => {
  class Chart {
    static register() {}
    constructor(_c: unknown, config: { data: unknown }) {
      this.data = config.data;
    }
    data: unknown;
    update() {}
    destroy() {}
  }
  const part = {};
  return { Chart, Decimation: part, Legend: part, LineController: part, LineElement: part, LinearScale: part, LogarithmicScale: part, PointElement: part, Tooltip: part };
});
const DashboardView = (await import('../../renderer/src/views/DashboardView.vue')).default;

/**
 * The Dashboard after Runs → Continue: it once kept saying "Finished (stopped) at step 21" while
 * the continued run trained, and ended with a "Stopped" badge beside "Finished (completed)". Its
 * status now comes from the run's state (shared/run/state.ts), so that cannot happen; and its epoch
 * is the one the Runs list shows for the same state.
 */
const id = 'r1';
const spe = 10;
const step = (n: number): TrainerEvent => ({
  type: 'step', runId: id, step: n, epoch: Math.floor((n - 1) / spe), epochStep: ((n - 1) % spe) + 1, stepsPerEpoch: spe,
  loss: 1, accuracy: 0.5, lr: 0.1, imagesPerSec: 40, time: n,
});
const epochEnd = (e: number): TrainerEvent => ({ type: 'epoch', runId: id, epoch: e, step: (e + 1) * spe, loss: 1, accuracy: 0.5, valLoss: 0.5, valAccuracy: 0.5 + e / 100, lr: 0.1, seconds: 1, time: 0 });

function firstSession(): TrainerEvent[] {
  const events: TrainerEvent[] = [{ type: 'state', state: 'created', runId: id }, { type: 'state', state: 'running', runId: id }];
  for (let n = 1; n <= 21; n++) {
    events.push(step(n));
    if (n % spe === 0) events.push(epochEnd(n / spe - 1));
  }
  events.push({ type: 'state', state: 'stopping', runId: id }, { type: 'finished', runId: id, reason: 'stopped', step: 21, epoch: 2, bestValAccuracy: 0.51, time: 0 });
  return events;
}

function opened(): OpenedRun {
  const events = firstSession();
  const fields = runFields(replayRun(initialRunState(id, 9), events));
  return {
    info: { id, name: 'demo', created: '2026-01-01T00:00:00.000Z', variant: 'demo-bc-tiny', dataset: 'mnist', ...fields },
    model: { variant: 'demo-bc-tiny', blocks: [2, 2, 2], growthRate: 8, bottleneck: true, compression: 0.5, initFeatures: 16, stem: 'cifar', dropRate: 0, inputShape: [28, 28, 1], classes: 10 },
    settings: { epochs: 9, batchSize: 4 } as OpenedRun['settings'],
    dataset: { kind: 'builtin', name: 'mnist' },
    classes: [],
    events,
  };
}

describe('Dashboard', () => {
  it('shows a continued run as it trains and ends, never as the stop before it', async () => {
    setActivePinia(createPinia());
    setApi({ openRun: async () => opened() } as unknown as WorkbenchApi);
    const session = useSessionStore();
    await session.open(id);
    const wrapper = mount(DashboardView);
    await flushPromises();
    const pill = () => wrapper.find('[data-test=run-state]').text();
    const ended = () => wrapper.find('[data-test=ended]');
    expect(pill()).toBe('stopped');
    expect(ended().text()).toBe('Finished (stopped) at step 21; best validation accuracy 51.0%.');
    expect(wrapper.find('[data-test=epoch]').text()).toBe(`${session.info!.epoch} / 9`);

    // Runs → Continue.
    session.expect(id, 9);
    session.ingest({ type: 'state', state: 'created', runId: id });
    await flushPromises();
    expect(pill()).toBe('loading');
    expect(ended().exists()).toBe(false);
    session.ingest({ type: 'state', state: 'running', runId: id });
    for (let n = 22; n <= 34; n++) {
      session.ingest(step(n));
      if (n % spe === 0) session.ingest(epochEnd(n / spe - 1));
      await flushPromises();
      expect(pill()).toBe('running');
      expect(ended().exists()).toBe(false);
    }
    // The epoch is the one a Runs list shows for the same state (shared/run/state.ts runFields).
    await new Promise((r) => setTimeout(r, 20));
    expect(wrapper.find('[data-test=epoch]').text()).toBe(`${runFields(session.run!).epoch} / 9`);
    expect(wrapper.find('[data-test=epoch]').text()).toBe('4 / 9');

    session.ingest({ type: 'finished', runId: id, reason: 'completed', step: 90, epoch: 9, bestValAccuracy: 0.58, time: 0 });
    await flushPromises();
    expect(pill()).toBe('finished');
    expect(ended().text()).toMatch(/^Finished \(completed\) at step 90;/);
    expect(wrapper.text()).not.toMatch(/stopped/i);
  });
});
