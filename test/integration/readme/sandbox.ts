import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { expect } from 'vitest';
import { CliSandbox, type Result } from '../../support/cli-process';

/**
 * What every module of the README suite shares: one sandbox (its own HOME, run store and working
 * folder, and the record of every invocation that the README check at the end reads), the image
 * folder made in it, the helpers that check a command's result, and the one small run trained
 * before the tests (trainSharedRun, the entry file's beforeAll), which the commands that read a
 * run reuse.
 */
export const sb = new CliSandbox('wb-readme-');
export const data = path.join(sb.work, 'shapes');
export const img = (name: string) => path.join(sb.work, name);
export let shapes: { id: string; dir: string };
/** The shared run's `train` result, for the test that checks what training printed. */
export let trained: Result;

/** Three colour classes, 9 images each: 7 of 12×12 and 2 of 10×10, plus the two bad files. */
async function makeShapes(): Promise<void> {
  const colours: Record<string, [number, number, number]> = { red: [220, 30, 30], green: [30, 200, 40], blue: [30, 40, 220] };
  for (const [cls, rgb] of Object.entries(colours)) {
    fs.mkdirSync(path.join(data, cls), { recursive: true });
    for (let i = 0; i < 9; i++) {
      const s = i < 7 ? 12 : 10;
      const px = Buffer.alloc(s * s * 3);
      for (let p = 0; p < s * s; p++) for (let k = 0; k < 3; k++) px[p * 3 + k] = Math.max(0, Math.min(255, rgb[k] + ((p * 7 + i * 13 + k * 5) % 41) - 20));
      const image = sharp(px, { raw: { width: s, height: s, channels: 3 } });
      await (i % 3 === 0 ? image.jpeg({ quality: 95 }) : image.png()).toFile(path.join(data, cls, `${i}.${i % 3 === 0 ? 'jpg' : 'png'}`));
    }
  }
  // A JPEG cut short: its header is intact, so only decoding catches it.
  const noise = Buffer.alloc(48 * 48 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 37) % 251;
  const jpeg = await sharp(noise, { raw: { width: 48, height: 48, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  fs.writeFileSync(path.join(data, 'red', 'cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
  fs.writeFileSync(path.join(data, 'blue', 'empty.png'), '');
  // Images to predict on and to inspect activations of, outside the dataset.
  await sharp(Buffer.alloc(12 * 12 * 3, 0).map((_, i) => (i % 3 === 0 ? 220 : 30)), { raw: { width: 12, height: 12, channels: 3 } }).png().toFile(img('red.png'));
  await sharp(Buffer.alloc(16 * 16 * 3, 0).map((_, i) => (i % 3 === 2 ? 220 : 30)), { raw: { width: 16, height: 16, channels: 3 } }).jpeg().toFile(img('blue.jpg'));
}

export function ok(r: Result, what: string): void {
  expect(r.code, `${what} exited ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  expect(r.stdout + r.stderr).not.toMatch(/Hi, looks like you are running TensorFlow\.js|internal error|EPIPE/);
}

export function userError(r: Result, message: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

export const json = <T = Record<string, unknown>>(r: Result): T => JSON.parse(r.stdout) as T;
export const readJson = <T = Record<string, unknown>>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
export const isPng = async (file: string) => (await sharp(file).metadata()).format === 'png';

/** Makes the image folder and trains the shared run in it. */
export async function trainSharedRun(): Promise<void> {
  await makeShapes();
  // The shared run: 24 training images at batch 3 for 7 epochs, so 56 steps (gradient flow is recorded every 50).
  const r = await sb.cli(['train', '--data', data, '--epochs', '7', '--batch', '3', '--name', 'shapes', '--seed', '1'], { timeoutMs: 240_000 });
  ok(r, 'train');
  const id = /as run (\S+)/.exec(r.stdout)![1];
  shapes = { id, dir: path.join(sb.runs, id) };
  trained = r;
}
