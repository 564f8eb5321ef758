// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { DescribeWeightsRequest, HostEvent, StartRunRequest, WorkbenchApi } from '../../shared/api';
import type { WeightsSourceInfo } from '../../shared/start-from';
import { setApi } from '../../renderer/src/api/current';
import { useSetupStore } from '../../renderer/src/stores/setup';
import NewRunView from '../../renderer/src/views/NewRunView.vue';
import { installFakeCanvas } from '../support/fake-canvas';

/**
 * "Start from" on the New run screen against a fake WorkbenchApi: ImageNet weights downloaded with
 * progress, the form adopting their architecture, 224×224×3 input and the fine-tune recipe, the
 * classifier replaced for the dataset's classes, another run as the source, and a start blocked
 * while the architecture no longer fits the weights.
 */
const IMAGENET: WeightsSourceInfo = {
  variant: 'densenet121',
  architecture: { blocks: [6, 12, 24, 16], growthRate: 32, bottleneck: true, compression: 0.5, initFeatures: 64, stem: 'imagenet' },
  inputShape: [224, 224, 3],
  classes: 1000,
  classNames: null,
  normalization: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  description: 'PyTorch checkpoint (legacy format) of densenet121 (blocks [6, 12, 24, 16], k=32, 64 initial features, bottleneck, θ=0.5, ImageNet stem), 1000 classes.',
};
const RUN: WeightsSourceInfo = {
  variant: 'demo-bc-tiny',
  architecture: { blocks: [2, 2, 2], growthRate: 8, bottleneck: true, compression: 0.5, initFeatures: 16, stem: 'cifar' },
  inputShape: [28, 28, 1],
  classes: 10,
  classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  normalization: { mean: [0.28], std: [0.35] },
  description: 'Run fashion: demo-bc-tiny trained on fashion-mnist at 28×28×1, 10 classes.',
};

function fakeApi() {
  const listeners: ((e: HostEvent) => void)[] = [];
  const calls = { start: [] as StartRunRequest[], describe: [] as DescribeWeightsRequest[], downloads: 0 };
  let finishDownload: () => void = () => {};
  const api = {
    scanDataset: async () => ({ root: '/photos', classes: ['cat', 'dog', 'owl'], counts: [20, 20, 20], splits: { train: [16, 16, 16], val: [4, 4, 4], test: [0, 0, 0] }, sizes: { '500x375': 60 }, modes: { gray: 0, color: 60 }, skipped: [], errors: [], warnings: [], thumbnails: {} }),
    listPretrained: async () => ({
      cacheDir: '/home/u/.cache/torch/hub/checkpoints',
      weights: [{ name: 'densenet121', fileName: 'densenet121-a639ec97.pth', url: 'https://download.pytorch.org/models/densenet121-a639ec97.pth', megabytes: 30.8, imagenetTop1: 74.434, cached: null }],
    }),
    downloadPretrained: () => new Promise((resolve) => {
      calls.downloads++;
      for (const l of listeners) l({ type: 'weightsDownload', name: 'densenet121', received: 10_000_000, total: 30_845_000, time: 1 });
      finishDownload = () => resolve({ file: '/home/u/.cache/torch/hub/checkpoints/densenet121-a639ec97.pth', bytes: 30_845_000, sha256: 'a639ec97aa', cached: false });
    }),
    describeWeights: async (r: DescribeWeightsRequest) => {
      calls.describe.push(r);
      return r.kind === 'run' ? RUN : IMAGENET;
    },
    listRuns: async () => [{ id: 'fashion-1', name: 'fashion', created: '2026-12-01T00:00:00Z', variant: 'demo-bc-tiny', dataset: 'fashion-mnist', status: 'finished', reason: 'completed', label: 'finished', epoch: 2, epochs: 2, step: 10, bestValAccuracy: 0.88, lastValAccuracy: 0.88, progress: 1 }],
    startRun: async (r: StartRunRequest) => {
      calls.start.push(r);
      return { runId: 'r1' };
    },
    onEvent: (l: (e: HostEvent) => void) => {
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
  } as unknown as WorkbenchApi;
  return { api, calls, finish: () => finishDownload() };
}

describe('New run: Start from', () => {
  it('downloads ImageNet weights with progress, adopts their architecture and input, and starts the two-phase recipe', async () => {
    installFakeCanvas();
    setActivePinia(createPinia());
    const { api, calls, finish } = fakeApi();
    setApi(api);
    const wrapper = mount(NewRunView);
    const setup = useSetupStore();
    setup.dataset = { kind: 'folder', path: '/photos' };
    await wrapper.find('[data-test=scan]').trigger('click');
    await flushPromises();

    await wrapper.find('[data-test=start-imagenet]').setValue(true);
    await flushPromises();
    expect(wrapper.find('[data-test=start-from]').text()).toContain('ImageNet top-1 74.4%');
    expect(wrapper.find('[data-test=fetch-pretrained]').text()).toBe('Download 30.8 MB');
    // Nothing to start from yet.
    expect(wrapper.find('[data-test=start]').attributes('disabled')).toBeDefined();

    await wrapper.find('[data-test=fetch-pretrained]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-test=download-progress]').text()).toContain('Downloading densenet121: 10.0 of 30.8 MB');
    finish();
    await flushPromises();

    expect(calls.describe).toEqual([{ kind: 'weights', file: '/home/u/.cache/torch/hub/checkpoints/densenet121-a639ec97.pth' }]);
    const info = wrapper.find('[data-test=start-from-info]').text();
    expect(info).toContain('Input 224×224×3, normalized as the weights were trained (0.485, 0.456, 0.406).');
    expect(info).toContain("A new classifier for 3 classes replaces the weights' 1000.");
    expect(setup.config).toMatchObject({ variant: 'densenet121', inputShape: [224, 224, 3], classes: 3, growthRate: 32 });
    expect(setup.settings).toMatchObject({ lr: 0.01, schedule: 'cosine', fineTune: { headEpochs: 3, lrFactor: 0.1, freezeBatchNorm: false } });
    expect(wrapper.find('[data-test=fine-tune-plan]').text()).toMatch(/^Epochs 1–3: only the classifier, at lr 0\.01; .* Epochs 4–10: every layer, at lr 0\.001 on the cosine schedule\.$/);

    // A scan now keeps the weights' input.
    await wrapper.find('[data-test=scan]').trigger('click');
    await flushPromises();
    expect(setup.config.inputShape).toEqual([224, 224, 3]);
    expect(wrapper.find('[data-test=input-choice]').text()).toContain('Input 224×224×3, as the pretrained weights were trained');

    await wrapper.find('[data-test=start]').trigger('click');
    await flushPromises();
    expect(calls.start).toHaveLength(1);
    expect(calls.start[0]).toMatchObject({ model: { variant: 'densenet121', classes: 3 }, startFrom: { kind: 'weights', file: '/home/u/.cache/torch/hub/checkpoints/densenet121-a639ec97.pth' } });
    wrapper.unmount();
  });

  it('starts from another run, and blocks a start whose architecture no longer fits the weights', async () => {
    installFakeCanvas();
    setActivePinia(createPinia());
    const { api, calls } = fakeApi();
    setApi(api);
    const wrapper = mount(NewRunView);
    await wrapper.find('[data-test=start-run]').setValue(true);
    await flushPromises();
    await wrapper.find('[data-test=start-run-id]').setValue('fashion-1');
    await flushPromises();
    expect(calls.describe).toEqual([{ kind: 'run', run: 'fashion-1', checkpoint: 'best' }]);
    expect(wrapper.find('[data-test=start-from-info]').text()).toContain('Run fashion: demo-bc-tiny trained on fashion-mnist');

    const k = wrapper.find('[data-test=k]');
    await k.setValue('12');
    await k.trigger('change');
    expect(wrapper.find('[data-test=start-from-problems]').text()).toContain("The architecture differs from the weights' in growth rate k.");
    expect(wrapper.find('[data-test=start]').attributes('disabled')).toBeDefined();
    await k.setValue('8');
    await k.trigger('change');
    expect(wrapper.find('[data-test=start-from-problems]').exists()).toBe(false);

    await wrapper.find('[data-test=start]').trigger('click');
    await flushPromises();
    expect(calls.start[0]).toMatchObject({ startFrom: { kind: 'run', run: 'fashion-1', checkpoint: 'best' }, model: { variant: 'demo-bc-tiny' } });

    // Back to scratch: the recipe goes with the source.
    await wrapper.find('[data-test=start-scratch]').setValue(true);
    await flushPromises();
    expect(useSetupStore().settings.fineTune).toBeNull();
    expect(wrapper.find('[data-test=fine-tune]').exists()).toBe(false);
    wrapper.unmount();
  });
});
