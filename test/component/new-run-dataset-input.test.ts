// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { ScanRequest, ScanResult, StartRunRequest, WorkbenchApi } from '../../shared/api';
import { setApi } from '../../renderer/src/api/current';
import NewRunView from '../../renderer/src/views/NewRunView.vue';
import { installFakeCanvas } from '../support/fake-canvas';

/**
 * The dataset decides the input on the New run screen: scanning a folder of RGB images of mixed
 * sizes sets the channels to 3 and the input to the most common size, says so, lists the sizes by
 * count, and starts the run with that input.
 */
const RGB_FOLDER: ScanResult = {
  root: '/data/shapes',
  classes: ['circle', 'square', 'triangle'],
  counts: [60, 60, 60],
  splits: { train: [54, 54, 54], val: [6, 6, 6], test: [0, 0, 0] },
  // Insertion order as an unsorted map would give it: the most common size is not first.
  sizes: { '59x59': 20, '50x50': 10, '62x62': 15, '57x57': 120, '61x61': 15 },
  modes: { gray: 0, color: 180 },
  verified: true,
  skipped: [{ path: 'circle/cut.jpg', reason: 'is corrupt or truncated (premature end of JPEG image)' }],
  errors: [],
  warnings: ['1 file was skipped; each is listed with its reason.'],
  thumbnails: {},
};

function fakeApi(scan: ScanResult) {
  const calls: { scan: ScanRequest[]; start: StartRunRequest[] } = { scan: [], start: [] };
  const api = {
    scanDataset: async (r: ScanRequest) => {
      calls.scan.push(r);
      return scan;
    },
    startRun: async (r: StartRunRequest) => {
      calls.start.push(r);
      return { runId: 'r1' };
    },
  } as unknown as WorkbenchApi;
  return { api, calls };
}

async function scanned(scan: ScanResult) {
  installFakeCanvas();
  setActivePinia(createPinia());
  const { api, calls } = fakeApi(scan);
  setApi(api);
  const wrapper = mount(NewRunView);
  await wrapper.find('[data-test=scan]').trigger('click');
  await flushPromises();
  return { wrapper, calls };
}

describe('New run: the dataset decides the input', () => {
  it('takes RGB and the most common size from a folder scan, shows both, and trains with them', async () => {
    const { wrapper, calls } = await scanned(RGB_FOLDER);
    expect(wrapper.find('[data-test=scan-sizes]').text()).toBe('· sizes 57×57 (120), 59×59 (20), 61×61 (15) and 2 other sizes');
    expect(wrapper.find('[data-test=input-choice]').text()).toBe('Input 57×57×3: the most common image size, 57×57 (120 of 180 images); RGB, since the images are in colour.');
    const channels = wrapper.findAll('select').find((s) => s.find('option[value="3"]').exists())!;
    expect((channels.element as HTMLSelectElement).value).toBe('3');
    expect(wrapper.find('[data-test=scan-headers-only]').exists()).toBe(false);
    expect(wrapper.text()).toContain('57×57×3');

    await wrapper.find('[data-test=start]').trigger('click');
    await flushPromises();
    expect(calls.start[0].model).toMatchObject({ inputShape: [57, 57, 3], classes: 3 });
    wrapper.unmount();
  });

  it('keeps the preset\'s size for photos, and says when a scan read only headers', async () => {
    const { wrapper } = await scanned({ ...RGB_FOLDER, sizes: { '1024x768': 170, '800x600': 10 }, modes: { gray: 170, color: 10 }, verified: false });
    expect(wrapper.find('[data-test=input-choice]').text()).toBe(
      'Input 28×28×3: demo-bc-tiny\'s input size, since the most common image size, 1024×768 (170 of 180 images), is larger than 256 px (images are resized to it); RGB, since 10 of 180 images are in colour.',
    );
    expect(wrapper.find('[data-test=scan-headers-only]').text()).toMatch(/Only image headers were read/);
    wrapper.unmount();
  });
});
