// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { StartRunRequest, WorkbenchApi } from '../../shared/api';
import { setApi } from '../../renderer/src/api/current';
import { SETUP_STORAGE_KEY } from '../../renderer/src/stores/setup-persist';
import NewRunView from '../../renderer/src/views/NewRunView.vue';
import { installFakeCanvas } from '../support/fake-canvas';

/** New run's training fields, parameter counts, volume schematics and reload persistence. */
function fakeApi() {
  const starts: StartRunRequest[] = [];
  const api = { startRun: async (r: StartRunRequest) => (starts.push(r), { runId: 'r1' }) } as unknown as WorkbenchApi;
  return { api, starts };
}

function mountView() {
  setActivePinia(createPinia());
  const fake = fakeApi();
  setApi(fake.api);
  return { wrapper: mount(NewRunView), ...fake };
}

beforeEach(() => {
  installFakeCanvas();
  localStorage.clear();
});

describe('New run: training fields', () => {
  it('checks them live, as the model fields are: a sentence, the field marked, Start disabled, nothing sent', async () => {
    const { wrapper, starts } = mountView();
    const epochs = wrapper.find('[data-test=epochs]');
    await epochs.setValue('-1');
    await epochs.trigger('change');
    expect(wrapper.find('[data-test=settings-problems]').text()).toBe('Epochs must be a whole number from 1 to 100,000; got -1.');
    expect(epochs.attributes('aria-invalid')).toBe('true');
    expect(wrapper.find('[data-test=start]').attributes('disabled')).toBeDefined();
    expect(wrapper.find('[data-test=start-blocked]').text()).toContain('Fix the fields marked in red');
    await wrapper.find('[data-test=start]').trigger('click');
    expect(starts).toHaveLength(0);

    // An emptied field is "nothing", not a silent 0.
    const batch = wrapper.find('[data-test=batch]');
    await batch.setValue('');
    await batch.trigger('change');
    expect(wrapper.find('[data-test=settings-problems]').text()).toContain('Batch size must be a whole number from 1 to 4096; got nothing.');

    await epochs.setValue('2');
    await epochs.trigger('change');
    await batch.setValue('16');
    await batch.trigger('change');
    expect(wrapper.find('[data-test=settings-problems]').exists()).toBe(false);
    expect(epochs.attributes('aria-invalid')).toBe('false');
    await wrapper.find('[data-test=start]').trigger('click');
    await flushPromises();
    expect(starts[0].settings).toMatchObject({ epochs: 2, batchSize: 16 });
    wrapper.unmount();
  });

  it('shows trainable parameters as the README and `summary` count them, and the total with BN statistics, both labelled', () => {
    const { wrapper } = mountView();
    // demo-bc-tiny on 28×28×1, 10 classes: 19,978 trainable + 816 BN moving statistics.
    expect(wrapper.find('[data-test=params]').text()).toBe('20.0 k');
    expect(wrapper.find('[data-test=params]').element.nextElementSibling?.textContent).toBe('trainable params');
    expect(wrapper.find('[data-test=params-total]').text()).toBe('20.8 k');
    expect(wrapper.find('[data-test=params-total]').element.parentElement?.textContent).toBe('20.8 k with BN statistics');
    wrapper.unmount();
  });
});

describe('New run: volumes two levels deep', () => {
  it('a stage clicked in the figure or the table shows its schematic with every derivation; a block opens its layers', async () => {
    const { wrapper } = mountView();
    await wrapper.find('[data-test=preset]').setValue('densenet121');
    await wrapper.find('[data-test=preset]').trigger('change');
    const table = wrapper.find('[data-test=stage-table]').text();
    expect(table).toContain('64 + 32·6 = 256');
    expect(table).toContain('⌊0.5·256⌋ = 128');
    expect(table).toContain('⌊56/2⌋ = 28');
    expect(wrapper.find('[data-test=schematic]').exists()).toBe(false);

    await wrapper.find('[data-stage="block1"]').trigger('click');
    const block = wrapper.find('[data-test=schematic]');
    expect(block.attributes('data-kind')).toBe('block');
    expect(block.findAll('[data-test=schematic-volume]').map((v) => v.text())).toEqual(['56×56×64', '56×56×96', '56×56×128', '56×56×160', '56×56×192', '56×56×224', '56×56×256']);
    expect(block.text()).toContain('64 + 32·l');
    expect(block.text()).toContain('64 + 32·6 = 256');

    // Into dense layer 3: BN-ReLU-1×1 conv to 4k = 128, BN-ReLU-3×3 conv to k = 32, concatenated to 160.
    await block.find('[data-layer="conv2_block3_concat"] button').trigger('click');
    const layer = wrapper.find('[data-test=schematic]');
    expect(layer.attributes('data-kind')).toBe('dense-layer');
    expect(layer.findAll('[data-test=schematic-volume]').map((v) => v.text())).toEqual(['56×56×128', '56×56×128', '56×56×32', '56×56×160']);
    expect(layer.findAll('[data-test=schematic-value]').map((v) => v.text())).toEqual(['64 + 32·2 = 128', '4·32 = 128', 'k = 32', '64 + 32·3 = 160']);
    await layer.find('[data-test=schematic-up]').trigger('click');
    expect(wrapper.find('[data-test=schematic]').attributes('data-kind')).toBe('block');

    // A transition from the table: θ·m, and H×W halved.
    await wrapper.find('[data-stage-row="pool2"]').trigger('click');
    const t = wrapper.find('[data-test=schematic]');
    expect(t.attributes('data-kind')).toBe('transition');
    expect(t.text()).toContain('⌊θ·m⌋');
    expect(t.text()).toContain('⌊0.5·256⌋ = 128');
    expect(t.text()).toContain('⌊56/2⌋ = 28');

    // Fewer blocks take transition 3 away: the selection goes with it, and the hint comes back.
    await wrapper.find('[data-stage-row="pool4"]').trigger('click');
    expect(wrapper.find('[data-test=schematic]').exists()).toBe(true);
    await wrapper.find('[data-test=blocks]').setValue('6, 12');
    await wrapper.find('[data-test=blocks]').trigger('change');
    expect(wrapper.find('[data-test=schematic]').exists()).toBe(false);
    expect(wrapper.text()).toContain('Select a stage in the figure or the table');
    wrapper.unmount();
  });
});

describe('New run: reloads', () => {
  it('keeps the form across a reload, including a bad value to fix', async () => {
    const first = mountView();
    await first.wrapper.find('[data-test=preset]').setValue('demo-bc-small');
    await first.wrapper.find('[data-test=preset]').trigger('change');
    const k = first.wrapper.find('[data-test=k]');
    await k.setValue('10');
    await k.trigger('change');
    const epochs = first.wrapper.find('[data-test=epochs]');
    await epochs.setValue('-1');
    await epochs.trigger('change');
    await first.wrapper.find('label.inline input').setValue('my run');
    await flushPromises();
    first.wrapper.unmount();

    // A fresh app on the same storage: as if the page had been reloaded.
    const second = mountView();
    expect((second.wrapper.find('[data-test=preset]').element as HTMLSelectElement).value).toBe('demo-bc-small');
    expect((second.wrapper.find('[data-test=k]').element as HTMLInputElement).value).toBe('10');
    expect((second.wrapper.find('label.inline input').element as HTMLInputElement).value).toBe('my run');
    expect(second.wrapper.find('[data-test=settings-problems]').text()).toContain('Epochs must be a whole number from 1 to 100,000; got -1.');
    second.wrapper.unmount();
  });

  it('drops what does not validate, part by part, and keeps the rest', () => {
    localStorage.setItem(SETUP_STORAGE_KEY, JSON.stringify({
      dataset: { kind: 'folder', path: '' }, // invalid: empty path
      preset: 'no-such-preset',
      config: { variant: 'custom', blocks: 'six' },
      settings: { epochs: 7, batchSize: 'many', optimizer: 'lion', nesterov: false },
      name: 42,
    }));
    const { wrapper } = mountView();
    expect((wrapper.find('[data-test=epochs]').element as HTMLInputElement).value).toBe('7');
    expect((wrapper.find('[data-test=batch]').element as HTMLInputElement).value).toBe('64'); // the schema's default
    expect((wrapper.find('[data-test=preset]').element as HTMLSelectElement).value).toBe('demo-bc-tiny');
    expect(wrapper.find('[data-test=limit]').exists()).toBe(true); // the built-in dataset, not the bad folder
    expect(wrapper.find('[data-test=settings-problems]').exists()).toBe(false);
    wrapper.unmount();
    localStorage.setItem(SETUP_STORAGE_KEY, '{not json');
    const again = mountView();
    expect((again.wrapper.find('[data-test=epochs]').element as HTMLInputElement).value).toBe('3');
    again.wrapper.unmount();
  });
});

describe('New run: memory', () => {
  it('shows what a step needs on the wasm heap and turns memory-efficient layers on where the plain ones would not fit', async () => {
    const { wrapper, starts } = mountView();
    const { useSetupStore } = await import('../../renderer/src/stores/setup');
    const setup = useSetupStore();
    setup.applyPreset('densenet121');
    setup.edit('inputShape', [224, 224, 3]);
    setup.settings = { ...setup.settings, batchSize: 32 };
    await flushPromises();
    const memory = () => wrapper.find('[data-test=step-memory]').text();
    expect(memory()).toMatch(/^Step memory on wasm \(4 GiB heap\): about \d\.\d\d GiB with memory-efficient dense layers \(plain layers: 6\.\d\d GiB\)\./);
    expect(memory()).toContain('Memory-efficient dense layers are on: a plain step of densenet121 at 224×224×3 with batch 32');

    const mode = wrapper.find('[data-test=memory-efficient]');
    await mode.setValue('off');
    await mode.trigger('change');
    expect(memory()).toMatch(/micro-batches of \d+ \(plain layers/);
    expect(memory()).toContain('Micro-batching is on');

    await mode.setValue('on');
    await mode.trigger('change');
    const micro = wrapper.find('[data-test=micro-batch]');
    await micro.setValue('8');
    await micro.trigger('change');
    expect(memory()).toMatch(/with memory-efficient dense layers, micro-batches of 8/);
    await wrapper.find('[data-test=start]').trigger('click');
    await flushPromises();
    expect(starts[0]?.settings).toMatchObject({ memoryEfficient: 'on', microBatch: 8, batchSize: 32 });
    wrapper.unmount();
  });
});
