// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { HostEvent, InspectRequest, OpenedRun, WorkbenchApi } from '../../shared/api';
import { defaultTrainSettings } from '../../shared/training';
import { setApi } from '../../renderer/src/api/current';
import { useInspectStore } from '../../renderer/src/stores/inspect';
import { useSessionStore } from '../../renderer/src/stores/session';
import EvaluationView from '../../renderer/src/views/EvaluationView.vue';
import LayerInspector from '../../renderer/src/components/LayerInspector.vue';
import { connectivityGraph } from '../../shared/architecture/graph';
import { installFakeCanvas } from '../support/fake-canvas';

/**
 * A finished run on screen: the Evaluation screen and the layer inspector request evaluation,
 * ablation, activations, stats and gradients from a checkpoint, show progress with Cancel, the
 * results as they arrive, and errors where they happened.
 */
const model = { variant: 'custom', blocks: [2, 2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'cifar' as const, dropRate: 0, inputShape: [8, 8, 1] as [number, number, number], classes: 2 };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==';

function opened(): OpenedRun {
  return {
    info: { id: 'r9', name: 'done', status: 'finished', reason: 'completed', created: new Date(0).toISOString(), variant: 'custom', dataset: 'toy', epoch: 2, epochs: 2, step: 6, bestValAccuracy: 0.5, lastValAccuracy: 0.5 },
    model, settings: defaultTrainSettings(), dataset: { kind: 'builtin', name: 'mnist', limit: 10 }, classes: ['cat', 'dog'],
    events: [{ type: 'finished', runId: 'r9', reason: 'completed', step: 6, epoch: 2, bestValAccuracy: 0.5, time: 1 }],
  };
}

function fakeApi() {
  const requests: InspectRequest[] = [];
  const cancelled: string[] = [];
  const api = {
    inspect: async (r: InspectRequest) => {
      requests.push(r);
      return { requestId: `q${requests.length}` };
    },
    cancelInspect: async (r: { requestId: string }) => {
      cancelled.push(r.requestId);
      return null;
    },
  } as unknown as WorkbenchApi;
  return { api, requests, cancelled };
}

function deliver(events: HostEvent[]) {
  const session = useSessionStore();
  const inspect = useInspectStore();
  for (const e of events) {
    session.ingest(e);
    inspect.ingest(e);
  }
}

describe('a finished run, inspected from a checkpoint', () => {
  it('evaluates it: progress with Cancel, then the confusion matrix and the mistakes with thumbnails and file names', async () => {
    installFakeCanvas();
    setActivePinia(createPinia());
    const { api, requests, cancelled } = fakeApi();
    setApi(api);
    useSessionStore().show(opened());
    const wrapper = mount(EvaluationView);
    expect(wrapper.text()).toContain('No evaluation yet');
    await wrapper.find('[data-test=inspect-checkpoint]').setValue('latest');
    await wrapper.find('[data-test=evaluate]').trigger('click');
    await flushPromises();
    expect(requests).toEqual([{ runId: 'r9', what: 'evaluation', checkpoint: 'latest' }]);
    deliver([{ type: 'inspectProgress', runId: 'r9', requestId: 'q1', what: 'evaluation', done: 4, total: 10, message: 'Predicted 4 of 10', time: 1 }]);
    await flushPromises();
    expect(wrapper.find('[data-test=inspect-evaluation-running]').text()).toMatch(/Predicted 4 of 10 · 40%/);
    expect(wrapper.find('[data-test=evaluate]').attributes('disabled')).toBeDefined();
    await wrapper.find('[data-test=inspect-evaluation-running] button').trigger('click');
    await flushPromises();
    expect(cancelled).toEqual(['q1']);
    deliver([
      {
        type: 'evaluation', runId: 'r9', step: 6, classes: ['cat', 'dog'], accuracy: 0.7, confusion: [[4, 1], [2, 3]],
        perClass: [{ precision: 0.67, recall: 0.8, accuracy: 0.7, support: 5 }, { precision: 0.75, recall: 0.6, accuracy: 0.7, support: 5 }],
        misclassified: [{ index: 3, actual: 1, predicted: 0, confidence: 0.9, file: 'dog/rex.png', thumbnail: PNG }, { index: 7, actual: 0, predicted: 1, confidence: 0.6 }],
        checkpoint: 'step-000000006', split: 'validation split', time: 2,
      },
      { type: 'inspectDone', runId: 'r9', requestId: 'q1', what: 'evaluation', ok: true, time: 3 },
    ]);
    await new Promise((r) => setTimeout(r, 30)); // the record redraws once a frame
    expect(wrapper.find('[data-test=eval-accuracy]').text()).toBe('70.0%');
    expect(wrapper.find('[data-test=eval-source]').text()).toMatch(/validation split · step 6 · checkpoint step-000000006/);
    const items = wrapper.findAll('[data-test=misclassified] li');
    expect(items).toHaveLength(2);
    expect(items[0].text()).toMatch(/dog\/rex\.png\s*dog → cat\s*90\.0% sure/);
    expect(items[0].find('img').attributes('src')).toBe(`data:image/png;base64,${PNG}`);
    expect(items[1].text()).toMatch(/validation image 7/);
    expect(wrapper.find('[data-test=inspect-evaluation-running]').exists()).toBe(false);
  });

  it('runs the ablation overview and draws a column per dense layer; a failure shows where it happened', async () => {
    installFakeCanvas();
    setActivePinia(createPinia());
    const { api, requests } = fakeApi();
    setApi(api);
    useSessionStore().show(opened());
    const wrapper = mount(EvaluationView);
    await wrapper.find('[data-test=run-ablation]').trigger('click');
    await flushPromises();
    expect(requests.at(-1)).toEqual({ runId: 'r9', what: 'ablation', checkpoint: 'best' });
    deliver([{ type: 'inspectDone', runId: 'r9', requestId: 'q1', what: 'ablation', ok: false, error: { name: 'WorkerExit', message: 'The inspection worker was killed by SIGKILL.' }, time: 1 }]);
    await flushPromises();
    expect(wrapper.find('[data-test=inspect-ablation-error]').text()).toBe('The inspection worker was killed by SIGKILL.');
    await wrapper.find('[data-test=run-ablation]').trigger('click');
    await flushPromises();
    deliver([
      { type: 'ablation', runId: 'r9', step: 6, baselineAccuracy: 0.7, checkpoint: 'step-000000006', samples: 10, seconds: 1.5, time: 2, layers: [
        { layer: 'conv2_block1', accuracy: 0.5, drop: 0.2 }, { layer: 'conv2_block2', accuracy: 0.7, drop: 0 },
        { layer: 'conv3_block1', accuracy: 0.8, drop: -0.1 }, { layer: 'conv3_block2', accuracy: 0.6, drop: 0.1 },
      ] },
      { type: 'inspectDone', runId: 'r9', requestId: 'q2', what: 'ablation', ok: true, time: 3 },
    ]);
    await new Promise((r) => setTimeout(r, 30));
    const overview = wrapper.find('[data-test=ablation-overview]');
    expect(overview.attributes('data-bars')).toBe('4');
    expect(overview.findAll('.col.negative')).toHaveLength(1);
    expect(overview.text()).toMatch(/Baseline 70\.0% on 10 images · step 6 · checkpoint step-000000006/);
    expect(overview.find('[data-test=ablation-top]').text()).toBe('Largest drops: conv2_block1 20.0 pts, conv3_block2 10.0 pts.');
    expect(overview.find('[data-test=ablation-gains]').text()).toBe('Zeroing raises the accuracy for conv3_block1 (+10.0 pts).');
  });

  it('lets the layer inspector ask for stats, gradients and activations of a finished run', async () => {
    installFakeCanvas();
    setActivePinia(createPinia());
    const { api, requests } = fakeApi();
    setApi(api);
    useSessionStore().show(opened());
    const node = connectivityGraph(model).nodes.find((n) => n.id === 'conv2_block2')!;
    const wrapper = mount(LayerInspector, { props: { node, config: model } });
    await wrapper.find('[data-test=request-stats]').trigger('click');
    await wrapper.find('[data-test=request-gradients]').trigger('click');
    await wrapper.find('[data-test=activation-sample]').setValue('5');
    await wrapper.find('[data-test=request-activations]').trigger('click');
    await flushPromises();
    expect(requests).toEqual([
      { runId: 'r9', what: 'stats', checkpoint: 'best' },
      { runId: 'r9', what: 'gradients', checkpoint: 'best' },
      { runId: 'r9', what: 'activations', sample: 5, checkpoint: 'best' },
    ]);
    const stat = { layer: 'conv2_block2', mean: 0.1, std: 0.2, meanAbs: 0.15, min: -1, max: 1, zeroFraction: 0.4, histMin: -1, histMax: 1, histogram: new Array(32).fill(1) };
    deliver([
      { type: 'layerStats', runId: 'r9', step: 6, epoch: 2, epochEnd: false, layers: [stat], checkpoint: 'step-000000006', time: 1 },
      { type: 'gradients', runId: 'r9', step: 6, epoch: 2, layers: [{ layer: 'conv2_block2_1_conv', gradNorm: 0.5, weightNorm: 2, updateRatio: null }], checkpoint: 'step-000000006', time: 1 },
      { type: 'activations', runId: 'r9', step: 6, sample: 5, label: 'dog', checkpoint: 'step-000000006', time: 1, layers: [{ layer: 'conv2_block2', channels: [1, 0], width: 1, height: 1, pngs: [PNG, PNG] }] },
    ]);
    await new Promise((r) => setTimeout(r, 30));
    expect(wrapper.find('[data-test=checkpoint-stats]').text()).toMatch(/mean 0\.1000 · std 0\.2000 · zero 40\.0%/);
    expect(wrapper.find('[data-test=checkpoint-gradients]').text()).toMatch(/conv2_block2_1_conv\s*0\.5000\s*2\.0000/);
    expect(wrapper.findAll('[data-test=activation-maps] img')).toHaveLength(2);
    expect(wrapper.find('[data-test=activation-maps]').text()).toMatch(/Image 5 \(dog\), checkpoint step-000000006/);
  });
});
