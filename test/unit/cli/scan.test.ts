import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport } from '../../../main/cli/commands/scan';
import { scanDataset } from '../../../main/engine/data';
import { parseInputShapeArg } from '../../../main/cli/dataset-args';
import { solidImage, tempDir, writeTree } from '../../support/data';

// `densenet-workbench scan`: the report text, in-process (test/integration/scan-cli.test.ts runs
// the real binary for its JSON and exit code).

const tmp = tempDir('dw-scan-cli-');

beforeAll(async () => {
  const png = await solidImage('png', 6, 4, [1, 2, 3]);
  writeTree(tmp.dir, { 'ds/cat/1.png': png, 'ds/cat/2.png': png, 'ds/dog/1.png': png, 'ds/dog/.DS_Store': 'x', 'ds/dog/cut.png': png.subarray(0, 30) });
});
afterAll(() => tmp.cleanup());

describe('densenet-workbench scan', () => {
  it('prints the report as text', async () => {
    const report = await scanDataset({ kind: 'folder', path: path.join(tmp.dir, 'ds') }, { inputShape: [4, 4, 1], valFraction: 0.34 });
    const text = formatReport(report);
    expect(text).toContain(`Dataset ${path.join(tmp.dir, 'ds')} (folder): 2 classes, 3 images.`);
    expect(text).toMatch(/ {2}cat +2 +1 +1\n {2}dog +1 +1 +0\n/);
    expect(text).toContain('Image sizes (W×H): 6×4: 3.');
    expect(text).toContain('  dog/.DS_Store is a hidden file.');
    expect(text).toMatch(/ {2}dog\/cut\.png is corrupt or truncated \(/);
    expect(text).toContain('The dataset is usable.');
  });

  it('refuses a bad input shape', () => {
    expect(() => parseInputShapeArg('4x4x2')).toThrow('An input shape must be HxWxC with H and W in 1..4096 and C 1 (grayscale) or 3 (RGB), e.g. 32x32x3; got "4x4x2".');
    expect(parseInputShapeArg('32×32×3')).toEqual([32, 32, 3]);
  });
});
