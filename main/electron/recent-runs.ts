import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/**
 * The runs the user opened or started most recently, newest first: kept in
 * `<userData>/recent-runs.json` for the File ▸ Open Recent Run menu, and given to the OS
 * (app.addRecentDocument: the Dock menu on macOS, the taskbar jump list on Windows).
 */
const EntrySchema = z.object({ runId: z.string().min(1), label: z.string(), dir: z.string().min(1) });
export type RecentRun = z.infer<typeof EntrySchema>;

export interface RecentRunsDeps {
  file: string;
  max?: number;
  /** app.addRecentDocument / app.clearRecentDocuments. */
  addRecentDocument(path: string): void;
  clearRecentDocuments(): void;
  onChange?(runs: RecentRun[]): void;
}

export interface RecentRuns {
  list(): RecentRun[];
  add(run: RecentRun): void;
  remove(runId: string): void;
  clear(): void;
}

export function createRecentRuns(deps: RecentRunsDeps): RecentRuns {
  const max = deps.max ?? 10;
  let runs = read(deps.file).slice(0, max);

  const commit = (next: RecentRun[]) => {
    runs = next;
    try {
      mkdirSync(dirname(deps.file), { recursive: true });
      const tmp = `${deps.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(runs, null, 1));
      renameSync(tmp, deps.file);
    } catch {
      // The list still works for this session; it just won't survive a restart.
    }
    deps.onChange?.(runs.slice());
  };

  return {
    list: () => runs.slice(),
    add(run) {
      const entry = EntrySchema.parse(run);
      deps.addRecentDocument(entry.dir);
      commit([entry, ...runs.filter((r) => r.runId !== entry.runId)].slice(0, max));
    },
    remove(runId) {
      if (runs.some((r) => r.runId === runId)) commit(runs.filter((r) => r.runId !== runId));
    },
    clear() {
      deps.clearRecentDocuments();
      commit([]);
    },
  };
}

/** A missing or damaged file is an empty list; damaged entries are dropped one by one. */
function read(file: string): RecentRun[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((entry) => {
    const parsed = EntrySchema.safeParse(entry);
    return parsed.success ? [parsed.data] : [];
  });
}
