import { Presets, SingleBar } from 'cli-progress';
import type { DownloadProgress } from '../engine/import/download';

/**
 * A cli-progress bar on stderr for a download (MB received, total, speed, ETA), shown only on a
 * terminal so scripts and logs get the one result line alone.
 */
export function downloadBar(label: string, stream: NodeJS.WriteStream = process.stderr): { onProgress: (p: DownloadProgress) => void; stop: () => void } {
  if (!stream.isTTY) return { onProgress: () => {}, stop: () => {} };
  const bar = new SingleBar({
    stream,
    format: `${label} |{bar}| {percentage}% | {mb}/{totalMb} MB | {speed} MB/s | ETA {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
  }, Presets.shades_classic);
  const t0 = Date.now();
  let started = false;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  return {
    onProgress: (p) => {
      const total = p.total ?? Math.max(p.received, 1);
      const speed = p.received > p.resumedFrom ? (p.received - p.resumedFrom) / 1e6 / Math.max((Date.now() - t0) / 1000, 1e-3) : 0;
      const payload = { mb: mb(p.received), totalMb: p.total === null ? '?' : mb(p.total), speed: speed.toFixed(1) };
      if (!started) {
        bar.start(total, p.received, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(p.received, payload);
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
