import { constants, promises as fs } from 'node:fs';
import { decodeImageWithHeader, ImageProblem, probeImage, type InputShape } from './decode';
import { forEachLimited } from './store';
import type { Candidate, Skipped } from './walk';

/**
 * Opens every candidate file once: either reading the header only (quick, for the dataset picker)
 * or decoding it fully at the model's input shape (what training needs, and the only way to catch a
 * truncated file). Unusable files become skipped entries; nothing here throws for a bad file.
 */

/** Files above this are refused unread: no image a DenseNet trains on is this large. */
export const MAX_FILE_BYTES = 512 * 1024 ** 2;

export interface ExamineOptions {
  /** Decode fully at this shape; without it, only headers are read. */
  inputShape?: InputShape;
  maxPixels?: number;
  /** Receives each decoded sample (candidate index, H×W×C bytes), e.g. to cache it. */
  onDecoded?: (i: number, pixels: Uint8Array) => void;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface Examined {
  /** Per candidate: true when usable. */
  ok: boolean[];
  /** Source sizes of the usable files, "WxH" → count, the most common first. */
  sizes: Record<string, number>;
  /** Usable files whose header says grayscale, and those in colour. */
  modes: { gray: number; color: number };
  skipped: Skipped[];
}

/** A size histogram with its keys in order of count (most common first; ties by name), as every report shows it. */
export function sortSizes(sizes: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(sizes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** Reads a file, bounded in size; a vanished or unreadable file is an ImageProblem. */
export async function readImageFile(path: string): Promise<Uint8Array> {
  let handle: fs.FileHandle;
  try {
    // O_NONBLOCK: if a FIFO replaced the file since the walk, open must not wait for a writer.
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageProblem(code === 'ENOENT' ? 'disappeared while the dataset was read' : `cannot be read (${code ?? (err as Error).message})`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ImageProblem('is not a regular file; it was not read');
    if (st.size > MAX_FILE_BYTES) throw new ImageProblem(`is ${st.size.toLocaleString('en-US')} bytes, above the ${MAX_FILE_BYTES / 1024 ** 2} MB limit for one image`);
    if (st.size === 0) throw new ImageProblem('is empty (0 bytes)');
    return await handle.readFile();
  } catch (err) {
    if (err instanceof ImageProblem) throw err;
    throw new ImageProblem(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  } finally {
    await handle.close();
  }
}

export async function examineFiles(candidates: readonly Candidate[], opts: ExamineOptions): Promise<Examined> {
  const ok = new Array<boolean>(candidates.length).fill(false);
  const sizeOf = new Array<string>(candidates.length);
  const colorOf = new Array<boolean>(candidates.length);
  const problems = new Array<string | undefined>(candidates.length);
  let done = 0;
  await forEachLimited(
    candidates.length,
    opts.inputShape ? 4 : 16,
    async (i) => {
      try {
        const buf = await readImageFile(candidates[i].path);
        let header;
        if (opts.inputShape) {
          const decoded = await decodeImageWithHeader(buf, opts.inputShape, opts.maxPixels);
          opts.onDecoded?.(i, decoded.pixels);
          header = decoded.header;
        } else header = await probeImage(buf, opts.maxPixels);
        sizeOf[i] = `${header.width}x${header.height}`;
        colorOf[i] = header.color;
        ok[i] = true;
      } catch (err) {
        if (!(err instanceof ImageProblem)) throw err;
        problems[i] = err.message;
      }
      opts.onProgress?.(++done, candidates.length);
    },
    opts.signal,
  );
  const sizes: Record<string, number> = {};
  const modes = { gray: 0, color: 0 };
  const skipped: Skipped[] = [];
  for (let i = 0; i < candidates.length; i++) {
    if (ok[i]) {
      sizes[sizeOf[i]] = (sizes[sizeOf[i]] ?? 0) + 1;
      modes[colorOf[i] ? 'color' : 'gray']++;
    } else skipped.push({ path: candidates[i].rel, reason: problems[i] ?? 'could not be examined' });
  }
  return { ok, sizes: sortSizes(sizes), modes, skipped };
}
