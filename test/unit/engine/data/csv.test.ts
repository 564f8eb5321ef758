import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError, loadDataset, scanDataset } from '../../../../main/engine/data';
import { parseCsv } from '../../../../main/engine/data/csv';
import { parseDatasetArg } from '../../../../main/cli/dataset-args';
import { solidImage, tempDir, writeTree } from '../../../support/data';

const tmp = tempDir('dw-csv-');
afterAll(() => tmp.cleanup());

describe('parseCsv', () => {
  it('handles quotes, escaped quotes, commas and newlines in quotes, CRLF, a BOM and blank lines', () => {
    const text = '\ufeffpath,label\r\n"a, b.png",cat\r\n\r\n"say ""hi"".png","two\nlines"\nplain.png,dog';
    expect(parseCsv(text).map((r) => [r.line, ...r.fields])).toEqual([
      [1, 'path', 'label'],
      [2, 'a, b.png', 'cat'],
      [4, 'say "hi".png', 'two\nlines'],
      [6, 'plain.png', 'dog'],
    ]);
  });

  it('refuses an unclosed quote with its line', () => {
    expect(() => parseCsv('a.png,cat\n"b.png,dog\n')).toThrow('The CSV has an unclosed quote in the row starting on line 2.');
  });
});

describe('CSV manifests', () => {
  beforeAll(async () => {
    const img = (v: number) => solidImage('png', 3, 3, [v, v, v], 1);
    writeTree(tmp.dir, {
      'imgs/x 1.png': await img(10),
      'imgs/x2.png': await img(20),
      'imgs/y1.png': await img(30),
      'imgs/y2.png': await img(40),
      'other/z.png': await img(50),
      'data/with-header.csv': 'path,label\n../imgs/x 1.png,x\n"../imgs/x2.png",x\n../imgs/y1.png,"y"\n../imgs/y2.png,y\n',
      'no-header.csv': 'imgs/x 1.png,1\nimgs/x2.png,1\nimgs/y1.png,2\nimgs/y2.png,10\nother/z.png,10\n',
      'missing.csv': 'imgs/x 1.png,x\nimgs/ghost.png,x\nimgs/y1.png,y\nimgs/phantom.png,y\n',
      'splits.csv': 'file,class,split\nimgs/x 1.png,x,train\nimgs/x2.png,x,val\nimgs/y1.png,y,train\nimgs/y2.png,y,test\nother/z.png,y,valid\n',
      'bad-rows.csv': 'imgs/x 1.png,x\nimgs/x2.png\nimgs/y1.png,y,holdout\nimgs/y2.png,y\nimgs/y2.png,x\n',
    });
  });

  it('reads paths relative to the CSV folder, with a header and quoted fields', async () => {
    const ds = await loadDataset({ kind: 'csv', path: path.join(tmp.dir, 'data', 'with-header.csv') }, { inputShape: [3, 3, 1], valFraction: 0 });
    expect(ds.classes).toEqual(['x', 'y']);
    expect(ds.report.counts).toEqual([2, 2]);
    expect(ds.report.kind).toBe('csv');
    const x = await ds.train.read([0, 1, 2, 3]);
    expect([0, 9, 18, 27].map((o) => Math.round(x[o] * 255))).toEqual([10, 20, 30, 40]);
    expect(Array.from(ds.train.labels)).toEqual([0, 0, 1, 1]);
  });

  it('works without a header and orders integer labels numerically', async () => {
    const r = await scanDataset({ kind: 'csv', path: path.join(tmp.dir, 'no-header.csv') });
    expect(r.classes).toEqual(['1', '2', '10']);
    expect(r.counts).toEqual([2, 1, 2]);
    expect(r.errors).toEqual([]);
  });

  it('reports files the CSV names that do not exist', async () => {
    const csv = path.join(tmp.dir, 'missing.csv');
    const err = (await loadDataset({ kind: 'csv', path: csv }, { inputShape: [3, 3, 1] }).catch((e: unknown) => e)) as DatasetError;
    expect(err).toBeInstanceOf(DatasetError);
    expect(err.report.errors).toEqual([
      `CSV manifest missing.csv names 2 file(s) that do not exist: imgs/ghost.png (line 2), imgs/phantom.png (line 4). Paths are relative to the CSV's folder (${tmp.dir}).`,
    ]);
    expect(err.report.skipped).toEqual([
      { path: 'imgs/ghost.png', reason: 'does not exist (named on the row on line 2 of missing.csv)' },
      { path: 'imgs/phantom.png', reason: 'does not exist (named on the row on line 4 of missing.csv)' },
    ]);
  });

  it('uses a split column when given', async () => {
    const ds = await loadDataset({ kind: 'csv', path: path.join(tmp.dir, 'splits.csv') }, { inputShape: [3, 3, 1] });
    expect(ds.report.splits).toEqual({ train: [1, 1], val: [1, 1], test: [0, 1] });
    expect(ds.test?.size).toBe(1);
  });

  it('skips malformed rows, unknown splits and duplicates with reasons', async () => {
    const r = await scanDataset({ kind: 'csv', path: path.join(tmp.dir, 'bad-rows.csv') });
    expect(r.skipped).toEqual([
      { path: 'bad-rows.csv:2', reason: 'is a malformed row on line 2 of bad-rows.csv: expected "path,label" or "path,label,split", got 1 field(s)' },
      { path: 'imgs/y1.png', reason: 'has split "holdout" on the row on line 3 of bad-rows.csv; accepted: train, val, test' },
      { path: 'imgs/y2.png', reason: 'is listed again on the row on line 5 of bad-rows.csv; only its first row is used' },
    ]);
    expect(r.counts).toEqual([1, 1]);
  });

  it('reports a missing or empty manifest', async () => {
    const gone = await scanDataset({ kind: 'csv', path: path.join(tmp.dir, 'gone.csv') });
    expect(gone.errors).toEqual([`CSV manifest ${path.join(tmp.dir, 'gone.csv')} does not exist.`]);
    writeTree(tmp.dir, { 'empty.csv': 'path,label\n' });
    const empty = await scanDataset({ kind: 'csv', path: path.join(tmp.dir, 'empty.csv') });
    expect(empty.errors).toEqual(['CSV manifest empty.csv has no rows; expected lines of "path,label".']);
  });

  it('is chosen for a .csv path on the command line', () => {
    expect(parseDatasetArg(path.join(tmp.dir, 'splits.csv'))).toEqual({ kind: 'csv', path: path.join(tmp.dir, 'splits.csv') });
    expect(parseDatasetArg(tmp.dir)).toEqual({ kind: 'folder', path: tmp.dir });
    expect(parseDatasetArg('mnist', 100)).toEqual({ kind: 'builtin', name: 'mnist', limit: 100 });
  });
});
