import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadVerified, type DownloadProgress } from '../../../../main/engine/import/download';
import { findPretrained, hashPrefixOf, pretrainedUrl, torchHubCheckpointsDir } from '../../../../main/engine/import/pretrained';
import { closedPort, startWeightsServer, type WeightsServer } from '../../../support/weights-server';

const body = fs.readFileSync('test/fixtures/pth/tiny_densenet.pth');
const sha = crypto.createHash('sha256').update(body).digest('hex');
const NAME = `tiny-${sha.slice(0, 8)}.pth`;
const other = Buffer.from(body.map((b) => b ^ 1));
let server: WeightsServer;
let dir: string;

beforeAll(async () => {
  server = await startWeightsServer({ [NAME]: body, 'wrong-00000000.pth': other });
});
afterAll(() => server.close());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'download-'));
  server.behave({});
  server.requests.length = 0;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const dest = (name = NAME) => path.join(dir, 'hub', 'checkpoints', name);

describe('verified download', () => {
  it('downloads, reports progress, checks the hash in the name and uses the cache the second time', async () => {
    const progress: DownloadProgress[] = [];
    const r = await downloadVerified({ url: server.url(NAME), dest: dest(), hashPrefix: hashPrefixOf(NAME), onProgress: (p) => progress.push(p) });
    expect(r).toMatchObject({ file: dest(), sha256: sha, bytes: body.length, cached: false, resumedFrom: 0 });
    expect(fs.readFileSync(dest()).equals(body)).toBe(true);
    expect(fs.existsSync(`${dest()}.partial`)).toBe(false);
    expect(progress[0]).toEqual({ received: 0, total: body.length, resumedFrom: 0 });
    expect(progress.at(-1)).toEqual({ received: body.length, total: body.length, resumedFrom: 0 });

    const again = await downloadVerified({ url: server.url(NAME), dest: dest(), hashPrefix: hashPrefixOf(NAME) });
    expect(again.cached).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('deletes a download whose sha256 does not match its name and never leaves it under the real name', async () => {
    const name = 'wrong-00000000.pth';
    await expect(downloadVerified({ url: server.url(name), dest: dest(name), hashPrefix: '00000000' })).rejects.toThrow(
      /The downloaded file \(\d+ bytes\) is damaged or not the one asked for: its sha256 starts with [0-9a-f]{8}, not 00000000 as its name says\. It was deleted; run again/,
    );
    expect(fs.existsSync(dest(name))).toBe(false);
    expect(fs.existsSync(`${dest(name)}.partial`)).toBe(false);
  });

  it('keeps the part of a cut download and resumes it with a Range request', async () => {
    server.behave({ cutAfter: 10_000 });
    await expect(downloadVerified({ url: server.url(NAME), dest: dest(), hashPrefix: hashPrefixOf(NAME) })).rejects.toThrow(
      new RegExp(`The download of .*${NAME} broke off after 10000 of ${body.length} bytes \\(.*\\)\\. Run the same command again to resume it from there\\.`),
    );
    expect(fs.existsSync(dest())).toBe(false);
    expect(fs.statSync(`${dest()}.partial`).size).toBe(10_000);

    const r = await downloadVerified({ url: server.url(NAME), dest: dest(), hashPrefix: hashPrefixOf(NAME) });
    expect(r).toMatchObject({ cached: false, resumedFrom: 10_000, sha256: sha });
    expect(server.requests.at(-1)!.range).toBe('bytes=10000-');
    expect(fs.readFileSync(dest()).equals(body)).toBe(true);
    expect(fs.existsSync(`${dest()}.partial`)).toBe(false);
  });

  it('starts over when the server ignores the Range request', async () => {
    fs.mkdirSync(path.dirname(dest()), { recursive: true });
    fs.writeFileSync(`${dest()}.partial`, Buffer.from('garbage from some earlier attempt'));
    server.behave({ ignoreRange: true });
    const r = await downloadVerified({ url: server.url(NAME), dest: dest(), hashPrefix: hashPrefixOf(NAME) });
    expect(r).toMatchObject({ resumedFrom: 0, sha256: sha });
    expect(fs.readFileSync(dest()).equals(body)).toBe(true);
  });

  it('checks a partial file that is already complete (the server answers 416)', async () => {
    fs.mkdirSync(path.dirname(dest()), { recursive: true });
    fs.writeFileSync(`${dest()}.partial`, body);
    const r = await downloadVerified({ url: server.url(NAME), dest: dest(), hashPrefix: hashPrefixOf(NAME) });
    expect(r).toMatchObject({ sha256: sha, bytes: body.length });
    expect(fs.existsSync(dest())).toBe(true);
  });

  it('gives up on a stalled server after the idle timeout, keeping nothing under the real name', async () => {
    server.behave({ stall: true });
    await expect(downloadVerified({ url: server.url(NAME), dest: dest(), idleTimeoutMs: 300 })).rejects.toThrow(/broke off after 0 of \d+ bytes \(no data for 0\.3 s\)/);
    expect(fs.existsSync(dest())).toBe(false);
  });

  it('says what the server answered', async () => {
    await expect(downloadVerified({ url: server.url('missing-12345678.pth'), dest: dest('missing-12345678.pth') })).rejects.toThrow(/failed: the server answered 404 Not Found\./);
  });

  it('offline: says it cannot reach the host, and what to do instead', async () => {
    const port = await closedPort();
    await expect(downloadVerified({ url: `http://127.0.0.1:${port}/${NAME}`, dest: dest(), offlineHint: 'Put the file at X.' })).rejects.toThrow(
      new RegExp(`Cannot reach 127\\.0\\.0\\.1:${port} to download .*\\(ECONNREFUSED\\)\\. Put the file at X\\.`),
    );
  });

  it('refuses a cached file whose hash does not match its name', async () => {
    fs.mkdirSync(path.dirname(dest()), { recursive: true });
    fs.writeFileSync(dest(), other);
    await expect(downloadVerified({ url: server.url(NAME), dest: dest(), hashPrefix: hashPrefixOf(NAME) })).rejects.toThrow(/is already there, but its sha256 starts with .* Delete it to download it again\./);
    expect(server.requests).toHaveLength(0);
  });
});

describe('torchvision ImageNet weights', () => {
  it('uses the torch hub cache folder as torch.hub.get_dir resolves it', () => {
    expect(torchHubCheckpointsDir({ TORCH_HOME: '/t' }, '/home/u')).toBe('/t/hub/checkpoints');
    expect(torchHubCheckpointsDir({ XDG_CACHE_HOME: '/x' }, '/home/u')).toBe('/x/torch/hub/checkpoints');
    expect(torchHubCheckpointsDir({}, '/home/u')).toBe('/home/u/.cache/torch/hub/checkpoints');
  });

  it('knows torchvision’s published URLs, with the sha256 prefix in the file name', () => {
    const w = findPretrained('densenet121');
    expect(w.url).toBe('https://download.pytorch.org/models/densenet121-a639ec97.pth');
    expect(hashPrefixOf(w.fileName)).toBe('a639ec97');
    expect(pretrainedUrl(findPretrained('densenet161'), {})).toBe('https://download.pytorch.org/models/densenet161-8d451a50.pth');
    expect(pretrainedUrl(w, { WORKBENCH_WEIGHTS_URL_BASE: 'http://mirror.local/models' })).toBe('http://mirror.local/models/densenet121-a639ec97.pth');
    expect(() => findPretrained('resnet50')).toThrow('No ImageNet weights named "resnet50"; torchvision publishes densenet121, densenet169, densenet201, densenet161.');
  });
});
