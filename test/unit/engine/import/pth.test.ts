import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, type SafeTensor } from '../../../../main/engine/import/safetensors';
import { parseWeights, readWeightsFile } from '../../../../main/engine/import/weights-file';
import { describeForeignStateDict } from '../../../../main/engine/import/state-dict';

/**
 * The .pth reader against files written by Debian's PyTorch (test/fixtures/pth/make_pth_fixtures.py):
 * every tensor must equal the float32 state dict of the same model (the torchvision safetensors
 * fixture), through the zip and the legacy formats, views, wrappers and reduced precision.
 */
const DIR = 'test/fixtures/pth';
const reference = parseSafetensors(fs.readFileSync('test/fixtures/torchvision/tiny_densenet.safetensors')).tensors;
const fixture = JSON.parse(fs.readFileSync(`${DIR}/pth_fixtures.json`, 'utf8')) as { evilMarker: string };

function expectSameWeights(tensors: Map<string, SafeTensor>, tolerance: (x: number) => number, skip = /num_batches_tracked$/) {
  let compared = 0;
  for (const [key, want] of reference) {
    if (skip.test(key)) continue;
    const got = tensors.get(key);
    expect(got, key).toBeDefined();
    expect(got!.shape, key).toEqual(want.shape);
    for (let i = 0; i < want.data.length; i++) {
      const w = Number(want.data[i]);
      expect(Math.abs(Number(got!.data[i]) - w), `${key}[${i}]`).toBeLessThanOrEqual(tolerance(w));
    }
    compared++;
  }
  return compared;
}

describe('.pth reader: files as PyTorch writes them', () => {
  it('reads the zip format exactly, including a transposed view and tensors at offsets in a shared storage', async () => {
    const w = await readWeightsFile(`${DIR}/tiny_densenet.pth`);
    expect(w.format).toBe('pth-zip');
    expect(w.notes).toEqual([]);
    expect(w.tensors.size).toBe(reference.size);
    expect(expectSameWeights(w.tensors, () => 0, /^$/)).toBe(reference.size);
    expect(w.tensors.get('features.norm0.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
    expect(w.tensors.get('features.norm0.num_batches_tracked')!.data[0]).toBe(7n);
  });

  it('reads the legacy format with the legacy key names of torchvision’s published weights, renamed as torchvision does', async () => {
    const w = await readWeightsFile(`${DIR}/tiny_densenet_legacy.pth`);
    expect(w.format).toBe('pth-legacy');
    expect(w.notes.join(' ')).toMatch(/renamed 40 keys from torchvision's legacy layout \(norm\.1 → norm1, conv\.2 → conv2\)/);
    expect([...w.tensors.keys()].some((k) => /\.(norm|conv)\.[12]\./.test(k))).toBe(false);
    expect(expectSameWeights(w.tensors, () => 0)).toBe(56);
  });

  it('unwraps {"model": ...}, strips module., and widens bfloat16 and float16 to float32', async () => {
    const w = await readWeightsFile(`${DIR}/tiny_densenet_wrapped_half.pth`);
    expect(w.notes).toEqual(['read the state dict under "model"', 'removed the "module." prefix that nn.DataParallel adds to every key']);
    expect(w.tensors.get('features.conv0.weight')!.dtype).toBe('BF16');
    expect(w.tensors.get('features.norm0.weight')!.dtype).toBe('F16');
    expect(w.tensors.get('features.conv0.weight')!.data).toBeInstanceOf(Float32Array);
    // bfloat16 keeps 8 significant bits, float16 11 (and is subnormal below 2^-14).
    expect(expectSameWeights(w.tensors, (x) => Math.abs(x) * 2 ** -8 + 2 ** -24)).toBe(56);
  });
});

describe('.pth reader: bad input', () => {
  it('refuses a pickle that names os.system, and runs nothing', async () => {
    fs.rmSync(fixture.evilMarker, { force: true });
    await expect(readWeightsFile(`${DIR}/evil_os_system.pth`)).rejects.toThrow(
      /evil_os_system\.pth was refused: its pickle asks for the Python global posix\.system\. A state dict needs only tensors, storages, OrderedDict and torch\.Size/,
    );
    expect(fs.existsSync(fixture.evilMarker)).toBe(false);
  });

  it('refuses a complex tensor, naming its dtype and what is read', async () => {
    await expect(readWeightsFile(`${DIR}/complex_dtype.pth`)).rejects.toThrow(
      /tensor "w" is stored as torch\.ComplexFloatStorage \(complex64\); the workbench reads float32, float16, bfloat16 and float64 weights and int64 buffers/,
    );
  });

  it('refuses a storage record shorter than its tensor', async () => {
    await expect(readWeightsFile(`${DIR}/truncated_storage.pth`)).rejects.toThrow(/is truncated or damaged: record data\/0 holds 40 bytes, but its 16 F32 elements need 64/);
  });

  it('says how to convert a TorchScript archive', async () => {
    await expect(readWeightsFile(`${DIR}/torchscript.pt`)).rejects.toThrow(
      /is a TorchScript archive \(torch\.jit\.save\).*torch\.jit\.load\('torchscript\.pt'\); torch\.save\(m\.state_dict\(\), 'weights\.pth'\)/,
    );
  });

  it('says how to convert a checkpoint in the tar format of PyTorch before 0.1.10', async () => {
    const tar = new Uint8Array(1024);
    tar.set(new TextEncoder().encode('pickle'), 0);
    tar.set(new TextEncoder().encode('ustar'), 257);
    await expect(parseWeights(tar, 'old.pth')).rejects.toThrow(/old\.pth is a checkpoint in the tar format of PyTorch before 0\.1\.10.*torch\.save\(torch\.load\('old\.pth'\), 'weights\.pth'\)/);
  });

  it('refuses a truncated zip at any length, and a storage whose bytes fail the CRC', async () => {
    const bytes = fs.readFileSync(`${DIR}/tiny_densenet.pth`);
    for (const cut of [100, 5000, bytes.length - 200, bytes.length - 1]) {
      await expect(parseWeights(bytes.subarray(0, cut), `cut-${cut}.pth`)).rejects.toThrow(/is a damaged zip archive .*a truncated download\?/);
    }
    const flipped = Buffer.from(bytes);
    const at = flipped.indexOf(Buffer.from('data/0')) + 200; // inside the first storage's data
    flipped[at] ^= 0x40;
    await expect(parseWeights(flipped, 'flipped.pth')).rejects.toThrow(/flipped\.pth is damaged: .*data\/\d+ fails its CRC-32 check/);
  });

  it('refuses a truncated legacy file', async () => {
    const bytes = fs.readFileSync(`${DIR}/tiny_densenet_legacy.pth`);
    for (const cut of [30, 2000, bytes.length - 100]) {
      await expect(parseWeights(bytes.subarray(0, cut), 'cut.pth')).rejects.toThrow(/cut\.pth (cannot be read safely: it ends early|is truncated: storage)/);
    }
  });

  it('says what a file that is no weights file is', async () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    await expect(parseWeights(png, 'photo.png')).rejects.toThrow(/photo\.png is neither a PyTorch checkpoint \(torch\.save: a zip archive or a pickle\) nor a safetensors file; it starts with the bytes 89 50 4e 47/);
  });

  it('describes a ResNet state dict for what it is', async () => {
    const w = await readWeightsFile(`${DIR}/resnet_keys.pth`);
    expect(describeForeignStateDict([...w.tensors.keys()])).toMatch(/^122 tensors; it looks like a ResNet \(torchvision resnet\/resnext\/wide_resnet: conv1, layer1–layer4, fc\)\. Top-level modules: conv1 \(1\), bn1 \(5\), layer1/);
  });
});
