/**
 * happy-dom has no canvas: getContext('2d') returns null. This installs a recording 2D context so
 * components really draw, and tests count what they drew (calls by method name).
 */
export interface RecordingContext {
  calls: Map<string, number>;
  count(method: string): number;
}

export function recordingContext(): RecordingContext & Record<string, unknown> {
  const calls = new Map<string, number>();
  const state: Record<string, unknown> = { lineWidth: 1, globalAlpha: 1, font: '', textAlign: 'left', textBaseline: 'alphabetic', strokeStyle: '#000', fillStyle: '#000' };
  return new Proxy(state, {
    get(target, prop: string) {
      if (prop === 'calls') return calls;
      if (prop === 'count') return (m: string) => calls.get(m) ?? 0;
      if (prop in target) return target[prop];
      return (..._args: unknown[]) => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1);
        if (prop === 'measureText') return { width: 10 };
        return undefined;
      };
    },
    set(target, prop: string, value) {
      target[prop] = value;
      return true;
    },
  }) as RecordingContext & Record<string, unknown>;
}

/** Makes every canvas return one shared recording context; returns it. */
export function installFakeCanvas(): RecordingContext {
  const ctx = recordingContext();
  HTMLCanvasElement.prototype.getContext = function getContext() {
    return ctx as unknown as CanvasRenderingContext2D;
  } as unknown as typeof HTMLCanvasElement.prototype.getContext;
  return ctx;
}

/** Runs queued animation frames (components batch redraws into one per frame). */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}
