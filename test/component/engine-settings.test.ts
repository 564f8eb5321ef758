// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { expect, it } from 'vitest';
import type { BackendInfo, WorkbenchApi } from '../../shared/api';
import { defaultTrainSettings } from '../../shared/training';
import { setApi } from '../../renderer/src/api/current';
import EngineSettings from '../../renderer/src/components/EngineSettings.vue';

/** The New-run form's engine settings against a fake WorkbenchApi. */
const info: BackendInfo = {
  name: 'wasm', flavour: 'wasm+training-kernels', version: '4.22.0', device: 'CPU', threads: 2, simd: true, skipped: [],
  pytorch: { python: '/usr/bin/python3', torch: '2.5.1', device: 'NVIDIA RTX 4090', memoryBytes: 24 * 2 ** 30, gpu: true, why: '/usr/bin/python3 has torch 2.5.1 with CUDA 12.4 on NVIDIA RTX 4090.', passedOver: [{ python: '/root/.pyenv/shims/python3', reason: 'torch is not importable' }] },
};

it('shows the PyTorch engine\'s settings for pytorch and auto only, sets them, and says what auto picks and why', async () => {
  setActivePinia(createPinia());
  setApi({ backendInfo: async () => info } as unknown as WorkbenchApi);
  const wrapper = mount(EngineSettings, { props: { settings: { ...defaultTrainSettings(), backend: 'wasm' } } });
  expect(wrapper.findAll('[data-test=backend] option').map((o) => o.attributes('value'))).toEqual(['auto', 'tensorflow', 'wasm', 'cpu', 'pytorch']);
  expect(wrapper.find('[data-test=device]').exists()).toBe(false);

  await wrapper.setProps({ settings: { ...defaultTrainSettings(), backend: 'pytorch' } });
  await wrapper.find('[data-test=device]').setValue('cuda');
  await wrapper.find('[data-test=precision]').setValue('bf16');
  await wrapper.find('[data-test=channels-last]').setValue(true);
  const python = wrapper.find('[data-test=python]');
  await python.setValue('  /opt/conda/bin/python3 ');
  await python.setValue('');
  expect(wrapper.emitted('set')).toEqual([['device', 'cuda'], ['precision', 'bf16'], ['channelsLast', true], ['python', '/opt/conda/bin/python3'], ['python', undefined]]);

  await wrapper.find('[data-test=probe-backends]').trigger('click');
  await flushPromises();
  expect(wrapper.find('[data-test=auto-picks]').text()).toBe('auto picks the PyTorch engine here.');
  expect(wrapper.find('[data-test=pytorch-info]').text()).toBe('PyTorch 2.5.1 on NVIDIA RTX 4090, 24.0 GiB. /usr/bin/python3 has torch 2.5.1 with CUDA 12.4 on NVIDIA RTX 4090.');
  expect(wrapper.text()).toContain('torch is not importable');
});
