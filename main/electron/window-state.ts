import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { WindowBounds } from './security';

/**
 * Window position, size and maximised state, kept in `<userData>/window-state.json` between
 * launches. A saved position that is no longer on any display (a monitor was unplugged) falls
 * back to the default size, centred by Electron.
 */
export const DEFAULT_BOUNDS = { width: 1280, height: 800 } as const;

const StateSchema = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().min(200).max(100_000),
  height: z.number().int().min(200).max(100_000),
  maximized: z.boolean().default(false),
});
export type WindowState = z.infer<typeof StateSchema>;

export interface Rect { x: number; y: number; width: number; height: number }

/** The bounds to open with, and whether to maximise. Unreadable or off-screen state gives the default. */
export function loadWindowState(file: string, workAreas: Rect[]): { bounds: WindowBounds; maximized: boolean } {
  let saved: WindowState;
  try {
    saved = StateSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return { bounds: { ...DEFAULT_BOUNDS }, maximized: false };
  }
  const { maximized, ...rect } = saved;
  if (!workAreas.some((area) => visibleEnough(rect, area))) return { bounds: { ...DEFAULT_BOUNDS }, maximized };
  return { bounds: rect, maximized };
}

/** At least 100×50 px of the title-bar area on the display, so the user can grab and move it. */
function visibleEnough(win: Rect, area: Rect): boolean {
  const overlapX = Math.min(win.x + win.width, area.x + area.width) - Math.max(win.x, area.x);
  const overlapY = Math.min(win.y + 50, area.y + area.height) - Math.max(win.y, area.y);
  return overlapX >= 100 && overlapY >= 50;
}

/** Written atomically (temp file + rename) so a crash mid-write never leaves half a JSON file. */
export function saveWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(StateSchema.parse(state)));
  renameSync(tmp, file);
}

export interface TrackedWindow {
  on(event: 'resize' | 'move' | 'close', listener: () => void): unknown;
  getNormalBounds(): Rect;
  isMaximized(): boolean;
}

/**
 * Saves the window's state after it stops moving or resizing, and on close. The normal bounds are
 * saved, not the maximised ones, so un-maximising after a relaunch restores the user's size.
 */
export function trackWindowState(win: TrackedWindow, file: string, opts: { debounceMs?: number; onError?: (err: unknown) => void } = {}): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const save = () => {
    clearTimeout(timer);
    timer = undefined;
    try {
      const b = win.getNormalBounds();
      saveWindowState(file, { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height), maximized: win.isMaximized() });
    } catch (err) {
      // Losing the window position is not worth interrupting the user for.
      opts.onError?.(err);
    }
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(save, opts.debounceMs ?? 500);
  };
  win.on('resize', later);
  win.on('move', later);
  win.on('close', save);
}
