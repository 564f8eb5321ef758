// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostEvent, OpenedRun, WorkbenchApi } from '../../shared/api';
import { defaultTrainSettings } from '../../shared/training';
import { getPreset } from '../../shared/presets';
import { isTrainerEvent } from '../../shared/api';
import { initialRunState, replayRun } from '../../shared/run/state';
import { setApi } from '../../renderer/src/api/current';
import { useSessionStore } from '../../renderer/src/stores/session';

/** chart.js needs a real canvas; the dashboard's numbers and controls are what is checked here. */
vi.mock('chart.js', () => {
  class Chart {
    static register() {}
    data: unknown;
    constructor(_c: unknown, config: { data: unknown }) {
      this.data = config.data;
    }
    update() {}
    destroy() {}
  }
  const part = {};
  return { Chart, Decimation: part, Legend: part, LineController: part, LineElement: part, LinearScale: part, LogarithmicScale: part, PointElement: part, Tooltip: part };
});
const DashboardView = (await import('../../renderer/src/views/DashboardView.vue')).default;

const settings = { ...defaultTrainSettings(), epochs: 3, batchSize: 32 };
/** One epoch of 4 steps: three full batches of 32 and a last batch of 2 images, as 98 training images give. */
function epoch(e: number, losses: [number, number, number, number], accuracies: [number, number, number, number]): HostEvent[] {
  const images = [32, 32, 32, 2];
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  const steps = losses.map((loss, i) => {
    lossSum += loss * images[i];
    correct += accuracies[i] * images[i];
    seen += images[i];
    return {
      type: 'step' as const, runId: 'r1', step: e * 4 + i + 1, epoch: e, epochStep: i + 1, stepsPerEpoch: 4, loss, accuracy: accuracies[i], lr: 0.1,
      imagesPerSec: 100, time: e * 4 + i, images: images[i], epochLoss: lossSum / seen, epochAccuracy: correct / seen,
    };
  });
  return [...steps, { type: 'epoch', runId: 'r1', epoch: e, step: e * 4 + 4, loss: lossSum / seen, accuracy: correct / seen, valLoss: 0.2, valAccuracy: 0.9, lr: 0.1, seconds: 1, time: e * 4 + 4 }];
}

/** How the Runs list has the run: `stopped` and `completed` are finished runs with that reason. */
function opened(events: HostEvent[], how: 'stopped' | 'completed' | 'running'): OpenedRun {
  const [status, reason] = how === 'running' ? (['running', null] as const) : (['finished', how] as const);
  // The run list's numbers agree with the events: epochs done, and the last step.
  const epochsDone = events.filter((e) => e.type === 'epoch').length;
  const steps = events.filter((e) => e.type === 'step');
  const step = steps.length ? (steps[steps.length - 1] as { step: number }).step : 0;
  return {
    info: { id: 'r1', name: 'run', status, reason, created: '2024-01-01T00:00:00Z', variant: 'demo-bc-tiny', dataset: 'mnist', epoch: epochsDone, epochs: 3, step, bestValAccuracy: 0.9, lastValAccuracy: 0.9 },
    model: getPreset('demo-bc-tiny'), settings, dataset: { kind: 'builtin', name: 'mnist' }, classes: [], events,
  };
}

/** The host's trainer training r1, as its events leave it. */
function training(events: HostEvent[]) {
  return { ...replayRun(initialRunState('r1', 3), events.filter(isTrainerEvent)), status: 'running' as const };
}

function setup(overrides: Partial<WorkbenchApi> = {}) {
  setActivePinia(createPinia());
  const calls: string[] = [];
  const api = {
    stopRun: async () => (calls.push('stop'), null),
    pauseRun: async () => (calls.push('pause'), null),
    continueRun: async ({ runId }: { runId: string }) => (calls.push(`continue ${runId}`), { runId }),
    openRun: async () => opened(epoch(0, [0.1, 0.1, 0.1, 0.97], [1, 1, 1, 0]), 'stopped'),
    ...overrides,
  } as unknown as WorkbenchApi;
  setApi(api);
  return { calls, session: useSessionStore() };
}

beforeEach(() => localStorage.clear());

describe('Dashboard', () => {
  it('shows epoch means, not the last tiny batch’s loss and accuracy', async () => {
    const { session } = setup();
    // The last batch of 2 images has loss 0.97 and accuracy 0%: the tiles must not show it.
    session.show(opened([...epoch(0, [0.3, 0.2, 0.1, 0.5], [0.8, 0.9, 1, 0.5]), ...epoch(1, [0.06, 0.05, 0.06, 0.97], [1, 1, 1, 0])], 'completed'));
    const wrapper = mount(DashboardView);
    await flushPromises();
    const mean = (0.06 * 32 + 0.05 * 32 + 0.06 * 32 + 0.97 * 2) / 98;
    expect(wrapper.find('[data-test=train-loss]').text()).toBe(mean.toFixed(4));
    expect(wrapper.find('[data-test=train-loss-sub]').text()).toBe('epoch 2 mean');
    expect(wrapper.find('[data-test=train-accuracy]').text()).toBe(`${((96 / 98) * 100).toFixed(1)}%`);
    // Finished at an epoch boundary: the last epoch's bar is full, like the run's.
    expect(wrapper.find('[data-test=progress-legend]').text()).toContain('epoch 2: 100% · step 4 of 4');
    // The smoothed curve weights the 2-image batch by 2/32: it barely moves.
    const smooth = session.record.trainLossSmooth;
    expect(smooth[smooth.length - 1].y - smooth[smooth.length - 2].y).toBeLessThan(0.1);
    expect(session.record.trainLoss[session.record.trainLoss.length - 1].y).toBe(0.97);
    wrapper.unmount();
  });

  it('mid-epoch, shows the epoch so far, and labels both progress bars', async () => {
    const { session } = setup();
    const events = [...epoch(0, [0.3, 0.2, 0.1, 0.5], [0.8, 0.9, 1, 0.5]), ...epoch(1, [0.06, 0.04, 0.5, 0.5], [1, 1, 0, 0]).slice(0, 2)];
    session.show(opened(events, 'running'));
    session.active = training(events);
    const wrapper = mount(DashboardView);
    await flushPromises();
    expect(wrapper.find('[data-test=train-loss]').text()).toBe('0.0500');
    expect(wrapper.find('[data-test=train-loss-sub]').text()).toBe('epoch 2 so far');
    const legend = wrapper.find('[data-test=progress-legend]').text();
    expect(legend).toContain('run 50% · step 6 of 12');
    expect(legend).toContain('epoch 2: 50% · step 2 of 4');
    wrapper.unmount();
  });

  it('asks before stopping, and stops only when confirmed', async () => {
    const { session, calls } = setup();
    session.show(opened(epoch(0, [0.3, 0.2, 0.1, 0.5], [0.8, 0.9, 1, 0.5]), 'running'));
    session.active = training(epoch(0, [0.3, 0.2, 0.1, 0.5], [0.8, 0.9, 1, 0.5]));
    const wrapper = mount(DashboardView, { attachTo: document.body });
    await wrapper.find('[data-test=stop]').trigger('click');
    expect(wrapper.find('[data-test=confirm]').text()).toContain('Stop this run?');
    await wrapper.find('[data-test=confirm-cancel]').trigger('click');
    expect(wrapper.find('[data-test=confirm]').exists()).toBe(false);
    expect(calls).toEqual([]);
    await wrapper.find('[data-test=stop]').trigger('click');
    await wrapper.find('[data-test=confirm-ok]').trigger('click');
    await flushPromises();
    expect(calls).toEqual(['stop']);
    wrapper.unmount();
  });

  it('offers Continue on a stopped run, and continues it', async () => {
    const { session, calls } = setup();
    session.show(opened(epoch(0, [0.3, 0.2, 0.1, 0.5], [0.8, 0.9, 1, 0.5]), 'stopped'));
    const wrapper = mount(DashboardView);
    await wrapper.find('[data-test=continue]').trigger('click');
    await flushPromises();
    expect(calls).toEqual(['continue r1']);
    expect(session.active).toMatchObject({ runId: 'r1', status: 'created', reason: null });
    wrapper.unmount();

    // A finished (completed) run has nothing to continue.
    session.show(opened(epoch(0, [0.3, 0.2, 0.1, 0.5], [0.8, 0.9, 1, 0.5]), 'completed'));
    session.active = null;
    const done = mount(DashboardView);
    expect(done.find('[data-test=continue]').exists()).toBe(false);
    expect(done.find('[data-test=export]').exists()).toBe(true);
    done.unmount();
  });
});
