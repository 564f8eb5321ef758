import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { configFromFlags } from '../../main/cli/commands/summary';
import { summarize } from '../../shared/architecture';

/** Runs the real bin, as a user would. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/densenet-workbench.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('densenet-workbench variants / summary (real bin)', () => {
  it('lists the variants as a table and as JSON', () => {
    const table = cli('variants');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^densenet121\s+DenseNet-121\s+6-12-24-16\s+32\s+224×224×3\s+7\.98 M\s+2\.83 G$/m);
    expect(table.stdout).toMatch(/^densenet-bc-100-12\s+DenseNet-BC \(L=100, k=12\)\s+16-16-16\s+12\s+32×32×3\s+769 k\s+288 M$/m);
  });

  it('prints JSON with the summary and the graph', () => {
    const json = cli('summary', '--variant', 'demo-bc-tiny', '--input', '32x32x3', '--classes', '4', '--json');
    expect(json.code).toBe(0);
    const data = JSON.parse(json.stdout);
    expect(data.config).toMatchObject({ variant: 'demo-bc-tiny', inputShape: [32, 32, 3], classes: 4 });
    expect(data.stages.at(-1).shape).toEqual([32]);
    expect(data.totals.trainableParams).toBe(summarize(configFromFlags({ variant: 'demo-bc-tiny', input: '32x32x3', classes: '4' })).totals.trainableParams);
    expect(data.graph.edges).toHaveLength(3 * 6); // three blocks of 2 layers: ℓ = 3 consumers, 3·4/2 edges each
  });

  it.each([
    [['summary', '--variant', 'densenet122'], /^densenet-workbench: Unknown variant "densenet122"; valid variants are densenet121, .*demo-bc-small\.\n$/],
    [['summary', '--variant', 'densenet121', '--input', '16x16x3', '--growth-rate', '0'], /^densenet-workbench: Invalid DenseNet config \(3 problems\): Growth rate k must be a whole number ≥ 1; got 0\. Input height 16 is too small .* it must be at least 29\.\n$/],
  ])('exits 2 with one line and no stack trace: %j', (args, message) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
