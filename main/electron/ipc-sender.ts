import type { IpcMainInvokeEvent, WebFrameMain } from 'electron';
import { originOf } from './app-protocol';

/**
 * Electron security checklist #17: validate the sender of every IPC message. Only the app's own
 * top-level frame, loaded from one of `allowedOrigins` (app://workbench, or the vite dev server
 * under `npm run dev`), may call the API; a frame that navigated elsewhere, an iframe or a
 * destroyed frame may not.
 */
export type SenderEvent = Pick<IpcMainInvokeEvent, 'senderFrame'>;

export function senderProblem(event: SenderEvent, allowedOrigins: readonly string[]): string | null {
  const frame: WebFrameMain | null = event.senderFrame;
  if (!frame) return 'The calling frame is gone (it navigated away or was destroyed).';
  if (frame.parent) return 'Only the workbench window itself may call the API, not a sub-frame.';
  // Both the frame's origin and its URL must agree: the origin is Chromium's view, the URL is
  // what the frame actually shows.
  const origin = frame.origin;
  const urlOrigin = originOf(frame.url);
  if (!allowedOrigins.includes(origin) || urlOrigin !== origin) {
    return `Calls from ${origin || frame.url || 'an unknown origin'} are refused; only ${allowedOrigins.join(' or ')} may call the API.`;
  }
  return null;
}
