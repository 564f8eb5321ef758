import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { relaxedSimdNodeFlags, relaxedSimdSupported } from '../../../../../main/engine/backend/wasm/relaxed-simd';
import { compareRelaxedWithPlain } from '../../../../support/relaxed-compare';

// The relaxed-SIMD build of the kernels (fused multiply-add) against the plain build, kernel family
// by kernel family: within 1e-5. Where this Node has relaxed SIMD only behind a flag (Node 20), the
// comparison runs in a child process started with it; on a runtime with neither, it says why.
const root = path.resolve(__dirname, '..', '..', '..', '..', '..');

function errors(): Record<string, number> | null {
  if (relaxedSimdSupported()) return compareRelaxedWithPlain();
  const flags = relaxedSimdNodeFlags();
  if (flags.length === 0) return null;
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', path.join(root, 'test', 'support', 'relaxed-compare.ts')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('relaxed-SIMD kernels', () => {
  it('match the plain-SIMD kernels within 1e-5', () => {
    const e = errors();
    if (!e) {
      console.log(`[relaxed-simd] skipped: Node ${process.versions.node} has no relaxed SIMD, not even behind a flag`);
      return;
    }
    expect(Object.keys(e).sort()).toEqual(['bn_grad_dx', 'channel_affine', 'col_grad_sums', 'col_sqdev', 'conv_dw']);
    for (const [kernel, err] of Object.entries(e)) expect(err, kernel).toBeLessThanOrEqual(1e-5);
    // Not the same build twice: fused multiply-adds round differently somewhere.
    expect(Math.max(...Object.values(e))).toBeGreaterThan(0);
  });
});
