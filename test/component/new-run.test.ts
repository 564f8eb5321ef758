// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { ScanRequest, StartRunRequest, WorkbenchApi } from '../../shared/api';
import { setApi } from '../../renderer/src/api/current';
import { useAppStore } from '../../renderer/src/stores/app';
import { useSessionStore } from '../../renderer/src/stores/session';
import NewRunView from '../../renderer/src/views/NewRunView.vue';
import { installFakeCanvas } from '../support/fake-canvas';

/** The New-run screen against a fake WorkbenchApi: live validation, live summary, scan, start. */
function fakeApi() {
  const calls: { scan: ScanRequest[]; start: StartRunRequest[] } = { scan: [], start: [] };
  const api = {
    scanDataset: async (r: ScanRequest) => {
      calls.scan.push(r);
      return { root: 'mnist', classes: ['zero', 'one', 'two'], counts: [5, 4, 1], splits: { train: [4, 3, 1], val: [1, 1, 0], test: [0, 0, 0] }, sizes: { '28x28': 10 }, skipped: [{ path: '/x/bad.png', reason: 'The PNG is truncated.' }], errors: [], warnings: ['Class "two" has only 1 image.'], thumbnails: { zero: ['data:image/png;base64,AAAA'] } };
    },
    startRun: async (r: StartRunRequest) => {
      calls.start.push(r);
      return { runId: 'r1' };
    },
  } as unknown as WorkbenchApi;
  return { api, calls };
}

describe('New run', () => {
  it('validates custom fields live, summarizes the architecture, scans and starts', async () => {
    installFakeCanvas();
    setActivePinia(createPinia());
    const { api, calls } = fakeApi();
    setApi(api);
    const wrapper = mount(NewRunView);
    // The default demo: a live summary with human-formatted counts.
    expect(wrapper.find('[data-test=summary]').exists()).toBe(true);
    expect(wrapper.find('[data-test=params]').text()).toMatch(/^\d+(\.\d+)? k$/);
    expect(wrapper.text()).toContain('28×28×16');

    // An invalid growth rate: the problem is named, the summary goes, Start is disabled.
    const k = wrapper.find('[data-test=k]');
    await k.setValue('0');
    await k.trigger('change');
    expect(wrapper.find('[data-test=problems]').text()).toMatch(/Growth rate k must be a whole number ≥ 1; got 0/);
    expect(wrapper.find('[data-test=summary]').exists()).toBe(false);
    expect(wrapper.find('[data-test=start]').attributes('disabled')).toBeDefined();

    // Fixed again, as a custom architecture.
    await k.setValue('6');
    await k.trigger('change');
    const blocks = wrapper.find('[data-test=blocks]');
    await blocks.setValue('2, 3');
    await blocks.trigger('change');
    expect(wrapper.find('[data-test=problems]').exists()).toBe(false);
    expect(wrapper.text()).toContain('Customized.');
    expect(wrapper.text()).toContain('Dense block 2');
    expect(wrapper.text()).not.toContain('Dense block 3');

    // Scan: counts per class, thumbnails, problems; the model follows the dataset's 3 classes.
    await wrapper.find('[data-test=scan]').trigger('click');
    await flushPromises();
    const report = wrapper.find('[data-test=scan-report]');
    expect(report.text()).toMatch(/10\s+images in\s+3\s+classes/);
    expect(report.text()).toContain('Class "two" has only 1 image.');
    expect(report.findAll('img.thumb')).toHaveLength(1);
    expect(calls.scan[0]).toMatchObject({ dataset: { kind: 'builtin', name: 'fashion-mnist' }, inputShape: [28, 28, 1] });

    await wrapper.find('[data-test=start]').trigger('click');
    await flushPromises();
    expect(calls.start[0]).toMatchObject({ model: { variant: 'custom', growthRate: 6, blocks: [2, 3], classes: 3 }, settings: { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 } });
    expect(useSessionStore().runId).toBe('r1');
    expect(useAppStore().view).toBe('dashboard');
    wrapper.unmount();
  });
});
