// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { isReactive, markRaw } from 'vue';
import { describe, expect, it, vi } from 'vitest';

/**
 * chart.js needs a real canvas, which happy-dom lacks; a stand-in Chart records what the component
 * configures and when it redraws. What is checked is the component's contract with chart.js:
 * the point arrays go in by reference with parsing off and decimation on, and new points cost
 * one update('none'), not a rebuild.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the recorded chart.js config is inspected loosely
type Loose = any;
const created: { config: Loose; updates: string[]; destroyed: boolean }[] = [];
vi.mock('chart.js', () => {
  class Chart {
    static register() {}
    data: Loose;
    rec: { config: Loose; updates: string[]; destroyed: boolean };
    constructor(_canvas: unknown, config: Loose) {
      this.data = config.data;
      this.rec = { config, updates: [], destroyed: false };
      created.push(this.rec);
    }
    update(mode: string) {
      this.rec.updates.push(mode);
    }
    destroy() {
      this.rec.destroyed = true;
    }
  }
  const part = {};
  return { Chart, Decimation: part, Legend: part, LineController: part, LineElement: part, LinearScale: part, LogarithmicScale: part, PointElement: part, Tooltip: part };
});

const LineChart = (await import('../../renderer/src/components/LineChart.vue')).default;

describe('LineChart', () => {
  it('hands chart.js the raw point arrays with parsing off and LTTB decimation on', () => {
    created.length = 0;
    const loss = markRaw([{ x: 0, y: 2.3 }, { x: 1, y: 2.1 }]);
    const val = markRaw([{ x: 1, y: 2.2 }]);
    const wrapper = mount(LineChart, { props: { title: 'Loss', version: 0, series: [{ label: 'train', points: loss, color: '#123456' }, { label: 'val', points: val, color: '#654321', dashed: true, markers: true }] } });
    expect(created).toHaveLength(1);
    const { config } = created[0];
    expect(config.options.parsing).toBe(false);
    expect(config.options.animation).toBe(false);
    expect(config.options.plugins.decimation).toMatchObject({ enabled: true, algorithm: 'lttb' });
    expect(config.options.scales.x.type).toBe('linear');
    expect(config.data.datasets[0].data).toBe(loss); // same array: no copy
    expect(isReactive(config.data.datasets[0].data)).toBe(false);
    expect(config.data.datasets[1]).toMatchObject({ borderDash: [5, 4], pointRadius: 2.5, borderColor: '#654321' });
    wrapper.unmount();
    expect(created[0].destroyed).toBe(true);
  });
  it('redraws in place when points are appended (100k points, one update per version)', async () => {
    created.length = 0;
    const points = markRaw([] as { x: number; y: number }[]);
    const wrapper = mount(LineChart, { props: { title: 'Loss', version: 0, series: [{ label: 'train', points, color: '#000' }] } });
    for (let i = 0; i < 100_000; i++) points.push({ x: i, y: Math.exp(-i / 20_000) });
    await wrapper.setProps({ version: 1 });
    expect(created).toHaveLength(1); // not rebuilt
    expect(created[0].updates).toEqual(['none']);
    expect(created[0].config.data.datasets[0].data).toHaveLength(100_000);
    expect(wrapper.find('.chart-empty').exists()).toBe(false);
    wrapper.unmount();
  });
  it('swaps datasets when it is given other arrays (another run) and says when it is empty', async () => {
    created.length = 0;
    const a = markRaw([{ x: 0, y: 1 }]);
    const wrapper = mount(LineChart, { props: { title: 'Accuracy', version: 0, yFormat: 'percent', series: [{ label: 'a', points: a, color: '#000' }] } });
    const b = markRaw([] as { x: number; y: number }[]);
    await wrapper.setProps({ series: [{ label: 'b', points: b, color: '#111' }] });
    expect(created[0].config.data.datasets[0].data).toBe(b);
    expect(created[0].updates).toEqual(['none']);
    expect(wrapper.find('.chart-empty').text()).toBe('No points yet.');
    expect(created[0].config.options.scales.y.ticks.callback(0.25)).toBe('25%');
    wrapper.unmount();
  });
});
