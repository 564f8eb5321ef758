import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, describeInvocation, readmeCommands } from '../support/cli-process';
import { sb, trainSharedRun } from './readme/sandbox';
import { datasetAndTrainingCommands } from './readme/dataset-and-training';
import { runsEvalInspectExportCommands } from './readme/runs-and-exports';
import { downloadImportFineTuneCommands } from './readme/fine-tune';
import { benchProfileMemoryCommands } from './readme/bench';
import { serveCommands } from './readme/serve';
import { pytorchEngineCommands } from './readme/pytorch';
import { benchCompareCommands } from './readme/bench-compare';

/**
 * Every command the README shows, run as a user runs it: a real process through
 * bin/densenet-workbench.mjs (or npm / npx), in a fresh environment (its own HOME, run store in
 * WORKBENCH_RUNS_DIR, working folder), on tiny data: a folder of RGB images made with sharp, with
 * a truncated JPEG and an empty file planted in it, and the built-in Fashion-MNIST for the demo.
 * Each test checks the exit code, the files written and what is printed. One small run, trained
 * once, is shared by the commands that read a run (eval, inspect, export, report, predict), as a
 * user would reuse theirs. The last test checks that every command line of the README, with
 * every flag it shows, was run here (or is listed below as impossible here, with why).
 *
 * The cases live in test/integration/readme/, one module per group of README sections, each
 * registering its tests inside the concurrent block below; readme/sandbox.ts holds the sandbox,
 * the image folder, the helpers and the shared run. The modules are not *.test.ts files, so vitest
 * runs them only through this one.
 */
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** README commands that cannot run inside this suite, and why. */
const NOT_RUN_HERE: Record<string, string> = {
  'npm install': 'installs dependencies from the registry; the suite runs on an installed checkout',
  'npm ci': 'reinstalls node_modules from the registry',
  'npm test': 'runs this suite itself',
  'npm run test:faults': 'the fault suite, run on its own (npm run test:faults)',
  'npm run test:unit': 'runs this suite itself',
  'npm run dev': 'needs Electron\'s binary and a display',
  'npm run dist': 'downloads Electron for each target platform',
  'npm rebuild': 'rebuilds a native GPU package (CUDA 11.2 and cuDNN 8.1)',
  'npm start': 'the desktop app needs Electron\'s binary and a display; its browser-mode fallback is test/e2e/electron-start.test.ts, and `npm start -- --browser` runs here',
  'node node_modules/electron/install.js': 'downloads Electron\'s binary',
  'npx vitest': 'runs the fault suite (npm run test:faults)',
};

beforeAll(trainSharedRun, 300_000);

afterAll(() => sb.cleanup());

// Independent processes run side by side (vitest's maxConcurrency, 5): the suite waits mostly on
// process start-up and model building, not on one core.
describe.concurrent('the README\'s commands, through the real binary', { timeout: 360_000 }, () => {
  datasetAndTrainingCommands();
  runsEvalInspectExportCommands();
  downloadImportFineTuneCommands();
  benchProfileMemoryCommands();
  serveCommands();
  pytorchEngineCommands();
  benchCompareCommands();
});

// After all of the above (suites run one after another): the README's command lines, checked off.
describe('the README', () => {
  it('ran every command line of the README with every flag it shows', () => {
    const missing: string[] = [];
    const excused = (line: string, name: string) => Object.keys(NOT_RUN_HERE).some((k) => line.startsWith(k) || name === k);
    for (const c of readmeCommands(README)) {
      const name = `${c.program} ${c.command}`;
      const runs = sb.invocations.filter((inv) => inv.program === c.program && describeInvocation(inv).command === c.command);
      if (runs.length === 0) {
        if (!excused(c.line, name)) missing.push(`${name}: never run (README: ${c.line})`);
        continue;
      }
      const flags = new Set(runs.flatMap((inv) => describeInvocation(inv).flags));
      for (const f of c.flags) if (!flags.has(f)) missing.push(`${name} ${f}: never passed (README: ${c.line})`);
    }
    for (const [k, why] of Object.entries(NOT_RUN_HERE)) console.log(`[readme] not run here: ${k}: ${why}`);
    expect(missing).toEqual([]);
  });
});
