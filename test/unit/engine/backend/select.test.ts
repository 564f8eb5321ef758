import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { formatBackendReport, initBackend } from '../../../../main/engine/backend/index';
import { describeLoadError } from '../../../../main/engine/backend/native';

// The native packages are optionalDependencies that npm dropped here (libtensorflow could not be
// downloaded), so the real import path is the "absent" case.
describe('initBackend', () => {
  it('skips the absent native packages with "not installed" and lands on wasm with training kernels', async () => {
    const r = await initBackend('auto', { threads: 2 });
    expect(r.name).toBe('wasm');
    expect(r.flavour).toBe('wasm+training-kernels');
    expect(r.version).toBe(tf.version_core);
    expect(r.threads).toBeGreaterThanOrEqual(1);
    expect(r.simd).toBe(true);
    expect(r.skipped.slice(0, 2)).toEqual([
      { backend: 'tfjs-node-gpu', reason: 'not installed' },
      { backend: 'tfjs-node', reason: 'not installed' },
    ]);
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    const text = formatBackendReport(r);
    expect(text).toMatch(/^backend: wasm \(wasm\+training-kernels 4\.22\.0\) on .+, \d threads?, SIMD/);
    expect(text).toContain('skipped tfjs-node-gpu: not installed');
  });

  it('is safe to call twice and returns the same report', async () => {
    const a = await initBackend('auto', { threads: 2 });
    const b = await initBackend('auto', { threads: 2 });
    expect(b).toBe(a);
    expect(tf.getBackend()).toBe('wasm');
  });

  it("reports an injected loader failure with the loader's own message and falls back", async () => {
    const importModule = async (spec: string) => {
      if (spec.endsWith('-gpu')) throw new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
      throw Object.assign(new Error('The specified module could not be loaded.\n    at Module._extensions'), { code: 'ERR_DLOPEN_FAILED' });
    };
    const r = await initBackend('auto', { threads: 2, importModule });
    expect(r.name).toBe('wasm');
    expect(r.skipped.slice(0, 2)).toEqual([
      { backend: 'tfjs-node-gpu', reason: 'libcudart.so.11.0 not found' },
      { backend: 'tfjs-node', reason: 'The specified module could not be loaded.' },
    ]);
  });

  it('skips a native package that registered into another tfjs-core copy', async () => {
    const importModule = async () => ({ version: { 'tfjs-core': '4.10.0', 'tfjs-node': '4.10.0' } });
    const r = await initBackend('auto', { threads: 2, importModule });
    expect(r.name).toBe('wasm');
    expect(r.skipped[0].reason).toMatch(/another @tensorflow\/tfjs-core copy \(4\.10\.0; ours is 4\.22\.0\)/);
  });

  it('forces cpu, and forcing an unavailable tensorflow backend fails with every reason', async () => {
    const cpu = await initBackend('cpu');
    expect(cpu).toMatchObject({ name: 'cpu', flavour: 'cpu', threads: 1, skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
    await expect(initBackend('tensorflow')).rejects.toThrow(
      'The tensorflow backend is unavailable: tfjs-node-gpu: not installed; tfjs-node: not installed.',
    );
    const wasm = await initBackend('wasm', { threads: 2 });
    expect(wasm.name).toBe('wasm');
    expect(wasm.skipped.find((s) => s.backend.startsWith('tfjs-node'))).toBeUndefined();
    expect(tf.getBackend()).toBe('wasm');
  });

  it('describes loader errors in one line', () => {
    expect(describeLoadError(Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node' imported from x"), { code: 'ERR_MODULE_NOT_FOUND' }), '@tensorflow/tfjs-node')).toBe('not installed');
    expect(describeLoadError(new Error('libtensorflow.so.2: cannot open shared object file'), 'x')).toBe('libtensorflow.so.2 not found');
    expect(describeLoadError('boom', 'x')).toBe('boom');
  });
});
