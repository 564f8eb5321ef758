import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRunsDir, runsDirOf } from '../../../main/cli/runs-option';

/** The run store every command defaults to, and --runs against the old --out. */
const CHECKOUT = path.resolve(import.meta.dirname, '..', '..', '..');

describe('the run store of a CLI command', () => {
  it('is WORKBENCH_RUNS_DIR, else the checkout\'s runs/ wherever the command is typed', () => {
    expect(defaultRunsDir({ WORKBENCH_RUNS_DIR: '/data/runs' })).toBe('/data/runs');
    expect(defaultRunsDir({})).toBe(path.join(CHECKOUT, 'runs'));
  });

  it('takes --runs, or the old --out where a command had it, and refuses two different stores', () => {
    expect(runsDirOf({ runs: 'a' })).toBe('a');
    expect(runsDirOf({}, 'b')).toBe('b');
    expect(runsDirOf({ runs: 'a' }, './a')).toBe('a');
    expect(() => runsDirOf({ runs: 'a' }, 'b')).toThrow('--runs a and --out b both name the run store; give only --runs.');
  });
});
