import type { ScanResult } from '../../shared/api';
import type { DatasetSpec } from '../../shared/training';
import type { ScanReport } from '../engine/data';

/** Scan-report thumbnails for the dataset picker, as PNG data URLs (sharp does the encoding). */
const SIZE = 48;

async function png(data: Uint8Array | Buffer, width: number, height: number, channels: 1 | 3): Promise<string> {
  const { default: sharp } = await import('sharp');
  const out = await sharp(Buffer.from(data), { raw: { width, height, channels } }).png().toBuffer();
  return `data:image/png;base64,${out.toString('base64')}`;
}

/** Thumbnails of image files (paths the data module's scan picked as samples). Unreadable files are skipped. */
export async function fileThumbnails(samples: Record<string, string[]>, perClass: number): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  if (perClass === 0) return out;
  const { default: sharp } = await import('sharp');
  for (const [cls, files] of Object.entries(samples)) {
    out[cls] = [];
    for (const file of files.slice(0, perClass)) {
      try {
        // limitInputPixels guards against decompression bombs, as the data module's decoder does.
        const buf = await sharp(file, { limitInputPixels: 8192 * 8192, animated: false }).resize(SIZE, SIZE, { fit: 'cover' }).png().toBuffer();
        out[cls].push(`data:image/png;base64,${buf.toString('base64')}`);
      } catch {
        // The scan report already says why a file is unusable; a thumbnail is only a preview.
      }
    }
  }
  return out;
}

/** The built-in datasets' scan report plus the first few training images of each class. */
export async function builtinThumbnails(spec: Extract<DatasetSpec, { kind: 'builtin' }>, perClass: number): Promise<ScanResult> {
  const { loadDataset } = await import('../engine/data');
  const ds = await loadDataset(spec, { inputShape: [28, 28, 1], memoryBudgetBytes: 0 });
  const thumbnails: Record<string, string[]> = {};
  const [h, w] = ds.inputShape;
  const c = ds.inputShape[2] === 3 ? 3 : 1;
  for (let k = 0; k < ds.classes.length && perClass > 0; k++) {
    const picks: number[] = [];
    for (let i = 0; i < ds.train.size && picks.length < perClass; i++) if (ds.train.labels[i] === k) picks.push(i);
    if (picks.length === 0) continue;
    const pixels = await ds.train.read(picks);
    const per = h * w * c;
    thumbnails[ds.classes[k]] = await Promise.all(
      picks.map((_, j) => {
        const bytes = new Uint8Array(per);
        for (let p = 0; p < per; p++) bytes[p] = Math.round(Math.min(1, Math.max(0, pixels[j * per + p])) * 255);
        return png(bytes, w, h, c);
      }),
    );
  }
  return scanResult(ds.report, thumbnails);
}

/** The data module's scan report as the API carries it, whatever the dataset kind. */
export function scanResult(r: ScanReport, thumbnails: Record<string, string[]>): ScanResult {
  return {
    root: r.root, classes: r.classes, counts: r.counts, splits: r.splits, sizes: r.sizes,
    ...(r.modes ? { modes: r.modes } : {}), verified: r.verified ?? true,
    skipped: r.skipped, errors: r.errors, warnings: r.warnings, thumbnails,
  };
}
