import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { closedPort, startWeightsServer } from '../../support/weights-server';
import { ROOT } from '../../support/cli-process';
import { data, json, ok, readJson, sb, userError } from './sandbox';

/** Pretrained weights: download and import, and the fine-tuning walkthrough (train --start-from, --pretrained). */
export function downloadImportFineTuneCommands(): void {
  it('download fetches weights into the torch hub cache; import --weights makes a run of them that resume fine-tunes; import --pretrained says what to do offline', async () => {
    // A loopback mirror: no test reaches the internet. The file's name carries its sha256 prefix, as torchvision's do.
    const body = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'pth', 'tiny_densenet.pth'));
    const name = `tiny-${crypto.createHash('sha256').update(body).digest('hex').slice(0, 8)}.pth`;
    const mirror = await startWeightsServer({ [name]: body });
    const torchHome = { TORCH_HOME: path.join(sb.home, 'torch') };
    try {
      const [list, fetched] = await Promise.all([sb.cli(['download', '--list', '--json'], { env: torchHome }), sb.cli(['download', mirror.url(name), '--json'], { env: torchHome })]);
      ok(list, 'download --list');
      expect(list.stdout).toMatch(/densenet121-a639ec97\.pth/);
      ok(fetched, 'download URL');
      const file = path.join(sb.home, 'torch', 'hub', 'checkpoints', name);
      expect(json(fetched)).toMatchObject({ file, cached: false, bytes: body.length });

      const out = path.join(sb.runs, 'ft');
      const r = await sb.cli(['import', '--weights', file, '--variant', 'auto', '--input', '32x32x3', '--data', data, '--freeze-features', '--epochs', '1', '--out', out]);
      ok(r, 'import');
      expect(r.stdout).toMatch(/^Imported custom \(blocks \[2, 2\], k=4, input 32×32×3, 3 classes\) into /m);
      expect(r.stdout).toMatch(/Features frozen: \d[\d,]* of [\d,]+ parameters train\./);
      const resumed = await sb.cli(['resume', out], { timeoutMs: 300_000 });
      ok(resumed, 'resume (import)');
      expect(resumed.stdout).toMatch(/Feature layers are frozen/);
      expect(resumed.stdout).toMatch(/completed at epoch 1, step \d+;/);

      // torchvision's own weights are 30 MB from download.pytorch.org: offline, the error says where to put them.
      const offline = { ...torchHome, WORKBENCH_WEIGHTS_URL_BASE: `http://127.0.0.1:${await closedPort()}/models/` };
      const pretrained = await sb.cli(['import', '--pretrained', 'densenet121', '--data', data, '--out', path.join(sb.runs, 'ft-121')], { env: offline });
      userError(pretrained, /Cannot reach 127\.0\.0\.1:\d+ to download .*densenet121-a639ec97\.pth \(ECONNREFUSED\)\. Without internet, download .* and copy it to .*hub\/checkpoints\/densenet121-a639ec97\.pth/);
      expect(fs.existsSync(path.join(sb.runs, 'ft-121'))).toBe(false);
    } finally {
      await mirror.close();
    }
  });

  it('the fine-tune walkthrough: folder datasets from mnist-folder.mjs, a source run, runs that start from it in two phases or from scratch; train --pretrained says what to do offline', async () => {
    const a = path.join(sb.work, 'digits-a');
    const b = path.join(sb.work, 'digits-b');
    const [madeA, madeB] = await Promise.all([
      sb.start(['scripts/mnist-folder.mjs', a, '--digits', '5,6,7', '--train', '12', '--val', '4'], { program: 'node', cwd: ROOT }).exited,
      sb.start(['scripts/mnist-folder.mjs', b, '--digits', '0,1', '--train', '6', '--val', '4'], { program: 'node', cwd: ROOT }).exited,
    ]);
    ok(madeA, 'mnist-folder.mjs');
    expect(madeA.stdout).toBe(`Wrote 36 training and 12 validation images of the digits 5, 6, 7 to ${a}.\n`);
    ok(madeB, 'mnist-folder.mjs');
    const source = await sb.cli(['train', '--data', a, '--variant', 'demo-bc-tiny', '--epochs', '1', '--batch', '12', '--lr', '0.1', '--schedule', 'cosine', '--no-augment', '--name', 'digits-5-9'], { timeoutMs: 240_000 });
    ok(source, 'train (source)');
    const [tuned, scratch] = await Promise.all([
      sb.cli(['train', '--data', b, '--start-from', 'digits-5-9', '--epochs', '2', '--head-epochs', '1', '--batch', '6', '--lr', '0.1', '--no-augment', '--seed', '1', '--name', 'fine-tuned'], { timeoutMs: 240_000 }),
      sb.cli(['train', '--data', b, '--variant', 'demo-bc-tiny', '--epochs', '2', '--batch', '6', '--lr', '0.1', '--schedule', 'cosine', '--no-augment', '--seed', '1', '--name', 'scratch'], { timeoutMs: 240_000 }),
    ]);
    ok(tuned, 'train --start-from RUN');
    expect(tuned.stdout).toMatch(/Fine-tuning phase 1 of 2: only the classifier trains for 1 epoch at learning rate 0\.1[\s\S]*Fine-tuning phase 2 of 2: every layer trains from epoch 2 at learning rate 0\.01/);
    ok(scratch, 'train (scratch)');
    expect(scratch.stdout).not.toMatch(/Fine-tuning/);
    const runDirs = fs.readdirSync(sb.runs).map((d) => path.join(sb.runs, d)).filter((d) => fs.existsSync(path.join(d, 'config.json')));
    const tunedDir = runDirs.find((d) => readJson<{ name: string }>(path.join(d, 'config.json')).name === 'fine-tuned')!;
    expect(readJson(path.join(tunedDir, 'import.json'))).toMatchObject({ kind: 'run-checkpoint', headReplaced: true });
    expect(readJson<{ settings: object }>(path.join(tunedDir, 'config.json')).settings).toMatchObject({ fineTune: { headEpochs: 1, lrFactor: 0.1, freezeBatchNorm: false }, schedule: 'cosine' });
    // The weights decide the architecture: another one is refused before any run folder is made.
    // (In a store of its own holding only the source run: other tests write runs meanwhile.)
    const store = path.join(sb.work, 'refused-store');
    const sourceDir = runDirs.find((d) => readJson<{ name: string }>(path.join(d, 'config.json')).name === 'digits-5-9')!;
    fs.cpSync(sourceDir, path.join(store, path.basename(sourceDir)), { recursive: true });
    userError(await sb.cli(['train', '--data', b, '--start-from', 'digits-5-9', '--variant', 'densenet121', '--runs', store]), /The architecture of a run that starts from pretrained weights is the weights' own; leave out --variant/);
    expect(fs.readdirSync(store)).toEqual([path.basename(sourceDir)]);
    // The latest checkpoint, the other phase settings, and the batch-norm statistics kept.
    const latest = await sb.cli(['train', '--data', b, '--start-from', 'digits-5-9', '--checkpoint', 'latest', '--head-epochs', '0', '--lr-factor', '0.5', '--freeze-bn', '--epochs', '1', '--batch', '6', '--no-augment'], { timeoutMs: 240_000 });
    ok(latest, 'train --start-from RUN --checkpoint latest');
    expect(latest.stdout).toContain('then every layer at lr 0.005 (batch norms keep their stored statistics).');
    // ImageNet weights come from download.pytorch.org: offline, the error says where to put them.
    const offline = { TORCH_HOME: path.join(sb.home, 'torch'), WORKBENCH_WEIGHTS_URL_BASE: `http://127.0.0.1:${await closedPort()}/models/` };
    userError(await sb.cli(['train', '--data', b, '--pretrained', 'densenet121', '--batch', '16', '--epochs', '10'], { env: offline }), /Cannot reach 127\.0\.0\.1:\d+ to download .*densenet121-a639ec97\.pth \(ECONNREFUSED\)\. Without internet, download /);
  });
}
