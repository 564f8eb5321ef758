import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import type { Result } from '../../support/cli-process';
import { data, ok, readJson, sb, userError } from './sandbox';

/** The PyTorch engine's commands: train, resume and bench with --backend pytorch, and --prepare-only. */
export function pytorchEngineCommands(): void {
  it('the PyTorch engine: train --backend pytorch (devices, mixed precision, channels_last, --nproc, --sync-bn), --prepare-only, resume and bench --backend pytorch', async () => {
    // Where Debian's PyTorch is missing, each command must refuse with the sentence saying so.
    const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;
    const env = { WORKBENCH_TORCH_THREADS: '1' };
    const refused = (r: Result) => userError(r, /--backend pytorch cannot be used: |--device cuda cannot be used: /);
    const tiny = ['--data', data, '--epochs', '1', '--batch', '8'];
    const auto = await sb.cli(['train', '--backend', 'pytorch', '--device', 'auto', '--variant', 'demo-bc-tiny', ...tiny], { env, timeoutMs: 200_000 });
    if (!torch) {
      console.log('[readme] the PyTorch engine\'s commands ran without PyTorch (/usr/bin/python3 has no torch): each refused, saying why');
      refused(auto);
    } else {
      ok(auto, 'train --backend pytorch');
      expect(auto.stdout).toMatch(/^pytorch: .* has torch /m);
      expect(auto.stdout).toMatch(/Run \S+ completed at epoch 1/);
    }
    // A GPU asked for by name where there is none is refused (on the CPU they train: test/integration/pytorch/parity.test.ts).
    const cuda = await sb.cli(['train', '--backend', 'pytorch', '--device', 'cuda', '--precision', 'bf16', '--channels-last', '--variant', 'demo-bc-tiny', ...tiny], { env });
    if (torch && cuda.code === 0) expect(cuda.stdout).toMatch(/completed/);
    else refused(cuda);

    // --prepare-only needs no PyTorch; resume trains the prepared run with 2 processes.
    const prepared = await sb.cli(['train', '--backend', 'pytorch', '--prepare-only', '--variant', 'demo-bc-tiny', ...tiny]);
    ok(prepared, 'train --prepare-only');
    const runDir = /in (\S+): \d+ images/.exec(prepared.stdout)![1];
    expect(prepared.stdout).toContain(`python3 -m densenet_torch --run ${runDir}`);
    expect(fs.existsSync(path.join(runDir, 'dataset', 'pixels.u8'))).toBe(true);
    const resumed = await sb.cli(['resume', runDir, '--python', '/usr/bin/python3', '--device', 'cpu', '--nproc', '2'], { env, timeoutMs: 200_000 });
    if (torch) {
      ok(resumed, 'resume --nproc 2');
      expect(resumed.stdout).toMatch(/DistributedDataParallel: 2 processes over gloo/);
      expect(readJson<{ status: string; reason: string }>(path.join(runDir, 'status.json'))).toMatchObject({ status: 'finished', reason: 'completed' });
    } else refused(resumed);
    // SyncBatchNorm synchronizes over CUDA only: on the CPU the run says so.
    const sync = await sb.cli(['train', '--backend', 'pytorch', '--nproc', '2', '--sync-bn', '--variant', 'demo-bc-tiny', ...tiny], { env, timeoutMs: 200_000 });
    if (torch) userError(sync, /SyncBatchNorm needs CUDA/);
    else refused(sync);

    const benchCuda = await sb.cli(['bench', '--backend', 'pytorch', '--python', '/usr/bin/python3', '--device', 'cuda', '--precision', 'fp16', '--channels-last', '--variant', 'densenet121', '--input', '224x224x3', '--batch', '64']);
    if (torch && benchCuda.code === 0) expect(benchCuda.stdout).toMatch(/images\/s with inspection/);
    else userError(benchCuda, /--device cuda cannot be used: |--backend pytorch cannot be used: /);
    const bench = await sb.cli(['bench', '--backend', 'pytorch', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--batch', '4', '--steps', '1', '--warmup', '0'], { env });
    if (torch) {
      ok(bench, 'bench --backend pytorch');
      expect(bench.stdout).toMatch(/^training: +\d+\.\d\d images\/s with inspection \(stats every 100, gradients every 50 steps\), \d+\.\d\d without$/m);
    } else refused(bench);
  });
}
