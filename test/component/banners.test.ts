// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostEvent, InspectRequest, WorkbenchApi } from '../../shared/api';
import { getPreset } from '../../shared/presets';
import { checkpointWrittenMessage } from '../../shared/protocol';
import { connectivityGraph } from '../../shared/architecture';
import { setApi } from '../../renderer/src/api/current';
import LayerInspector from '../../renderer/src/components/LayerInspector.vue';
import { BANNER_TTL_MS, useAppStore } from '../../renderer/src/stores/app';
import { observeRequests, requestInspection, requestSnapshot } from '../../renderer/src/stores/requests';
import { useSessionStore } from '../../renderer/src/stores/session';
import { initialRunState } from '../../shared/run/state';

/** Request banners settle on their answer or expire; they never pile up. */
function setup() {
  setActivePinia(createPinia());
  const inspects: InspectRequest[] = [];
  let snapshots = 0;
  setApi({ inspect: async (r: InspectRequest) => (inspects.push(r), null), snapshotRun: async () => (snapshots++, null) } as unknown as WorkbenchApi);
  return { app: useAppStore(), inspects, snapshots: () => snapshots };
}
const gradients: HostEvent = { type: 'gradients', runId: 'r1', step: 12, epoch: 0, layers: [{ layer: 'conv2_block1_1_conv', gradNorm: 0.5, updateRatio: 1e-3, weightNorm: 3 }], time: 1 };

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('request banners', () => {
  it('show one banner per request kind while pending, then what came back, then go', async () => {
    const { app, inspects } = setup();
    await requestInspection({ what: 'activations', sample: 3 });
    await requestInspection({ what: 'activations', sample: 4 });
    expect(inspects).toEqual([{ what: 'activations', sample: 3 }, { what: 'activations', sample: 4 }]);
    expect(app.banners).toHaveLength(1); // replaced, not piled up
    expect(app.banners[0]).toMatchObject({ key: 'inspect:activations', pending: true, message: 'Activation maps requested for image 4…' });

    observeRequests({ type: 'activations', runId: 'r1', step: 30, sample: 4, layers: [], time: 2 });
    expect(app.banners).toHaveLength(1);
    expect(app.banners[0].message).toBe('Activation maps arrived (step 30).');
    expect(app.banners[0].pending).toBeFalsy();
    vi.advanceTimersByTime(BANNER_TTL_MS.info + 10);
    expect(app.banners).toHaveLength(0);
  });

  it('settle a checkpoint request on the trainer’s "written" line, and expire if nothing answers', async () => {
    const { app, snapshots } = setup();
    await requestSnapshot();
    expect(snapshots()).toBe(1);
    expect(app.banners[0].message).toMatch(/^Checkpoint requested/);
    observeRequests({ type: 'log', level: 'info', message: checkpointWrittenMessage(42, 'step-000000042'), time: 1 });
    expect(app.banners[0].message).toBe('Checkpoint step-000000042 written at step 42, as requested.');
    await requestInspection({ what: 'ablation' });
    vi.advanceTimersByTime(BANNER_TTL_MS.pending + 10);
    expect(app.banners).toHaveLength(0);
  });

  it('show an inspection’s progress in its banner, and why it failed when it did', async () => {
    const { app } = setup();
    await requestInspection({ what: 'ablation' });
    observeRequests({ type: 'inspectProgress', runId: 'r1', what: 'ablation', done: 3, total: 12, message: 'Zeroed conv2_block3', time: 1 });
    expect(app.banners).toHaveLength(1);
    expect(app.banners[0]).toMatchObject({ pending: true, message: 'The ablation: 25% · Zeroed conv2_block3' });
    observeRequests({ type: 'inspectDone', runId: 'r1', what: 'ablation', ok: false, error: { name: 'WorkbenchError', message: 'This run has no validation split to compute ablation on.' }, time: 2 });
    expect(app.banners[0]).toMatchObject({ level: 'warn', message: 'The ablation did not come: This run has no validation split to compute ablation on.' });
    // A done after the result event changes nothing: the result already settled it.
    await requestInspection({ what: 'stats' });
    observeRequests({ type: 'layerStats', runId: 'r1', step: 3, epoch: 0, epochEnd: false, layers: [], time: 3 });
    observeRequests({ type: 'inspectDone', runId: 'r1', what: 'stats', ok: true, time: 4 });
    expect(app.banners.find((b) => b.key === 'inspect:stats')?.message).toBe('Layer statistics arrived (step 3).');
  });

  it('say so when the run ends or the trainer errs before answering; errors stay until dismissed', async () => {
    const { app } = setup();
    await requestInspection({ what: 'evaluation' });
    observeRequests({ type: 'finished', runId: 'r1', reason: 'stopped', step: 5, epoch: 0, bestValAccuracy: null, time: 1 });
    expect(app.banners[0]).toMatchObject({ level: 'warn', message: 'The evaluation did not come: the run ended first.' });
    app.report(new Error('Something broke.'));
    vi.advanceTimersByTime(BANNER_TTL_MS.warn + 10);
    expect(app.banners.map((b) => b.message)).toEqual(['Something broke.']);
    app.dismiss(app.banners[0].id);
    expect(app.banners).toHaveLength(0);
  });
});

describe('layer inspector requests on a paused run', () => {
  it('"request them" for gradients sends the request and settles when the gradients come; labels keep the full layer name', async () => {
    const { app, inspects } = setup();
    const session = useSessionStore();
    session.reset('r1');
    session.active = { ...initialRunState('r1'), status: 'paused' };
    const config = getPreset('demo-bc-tiny');
    const node = connectivityGraph(config).nodes.find((n) => n.id === 'conv2_block1')!;
    const wrapper = mount(LayerInspector, { props: { node, config } });
    const link = wrapper.findAll('button').find((b) => b.text() === 'request them')!;
    await link.trigger('click');
    await flushPromises();
    expect(inspects).toEqual([{ runId: 'r1', what: 'gradients' }]); // a request names its run
    expect(app.banners[0]).toMatchObject({ key: 'inspect:gradients', pending: true });

    session.ingest(gradients);
    observeRequests(gradients);
    vi.advanceTimersByTime(20); // the store redraws at most once a frame
    await flushPromises();
    expect(app.banners[0].message).toBe('Gradient norms arrived (step 12).');
    const layer = wrapper.find('[data-test=grad-layer]');
    expect(layer.find('h4').text()).toBe('conv2_block1_1_conv 1×1 bottleneck conv');
    expect(layer.text()).toContain('‖g‖ gradient');
    wrapper.unmount();
  });
});
