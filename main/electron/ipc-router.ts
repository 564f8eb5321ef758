import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { z } from 'zod';
import { API_METHODS, API_METHOD_NAMES, DESKTOP_METHODS, type ApiReply, type ChooseFolderRequest } from '../../shared/api';
import { WorkbenchError, toErrorData } from '../../shared/errors';
import { DROP_CHANNEL } from './channels';
import { senderProblem } from './ipc-sender';

/**
 * Maps every API channel to the WorkbenchService (main/host), the same service browser mode uses.
 * For each call it (1) checks the sender frame (Electron security checklist #17), (2) validates the
 * payload against its method's schema (shared/api), and (3) answers `ApiReply`: errors cross as data,
 * `{ok: false, error: {name, message}}`, never as a rejected invoke.
 */
export interface ApiService {
  call(channel: string, payload: unknown): Promise<ApiReply>;
}

export interface DesktopHandlers {
  /** Shows the native picker for the sender's window; null when cancelled. */
  chooseFolder(request: z.output<typeof DESKTOP_METHODS.chooseFolder.request>, event: IpcMainInvokeEvent): Promise<string | null>;
  /** Shows the native file picker for a weights file; null when cancelled. */
  chooseFile(request: z.output<typeof DESKTOP_METHODS.chooseFile.request>, event: IpcMainInvokeEvent): Promise<string | null>;
  /** A folder dropped on the window (already sender-checked); resolves once the UI was told. */
  folderDropped(path: string, event: IpcMainInvokeEvent): Promise<void>;
}

export interface RouterOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  service: ApiService;
  desktop: DesktopHandlers;
  /** Origins whose top-level frame may call (app://workbench; the vite dev server under npm run dev). */
  allowedOrigins: readonly string[];
  /** Told about every refused sender, for the log. */
  onRefused?(channel: string, reason: string): void;
}

const DropPathSchema = z.string().min(1).max(4096);

function invalid(channel: string, error: z.ZodError): ApiReply {
  const issues = error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`);
  return { ok: false, error: toErrorData(new WorkbenchError(`Invalid request for ${channel}: ${issues.join('; ')}.`)) };
}

/** Registers every handler; returns the function that removes them again. */
export function registerIpcRouter(opts: RouterOptions): () => void {
  const channels: string[] = [];

  const route = (channel: string, handler: (event: IpcMainInvokeEvent, payload: unknown) => Promise<ApiReply>) => {
    channels.push(channel);
    opts.ipcMain.handle(channel, async (event, payload: unknown): Promise<ApiReply> => {
      const problem = senderProblem(event, opts.allowedOrigins);
      if (problem) {
        opts.onRefused?.(channel, problem);
        return { ok: false, error: { name: 'SecurityError', message: problem } };
      }
      try {
        return await handler(event, payload);
      } catch (err) {
        return { ok: false, error: toErrorData(err) };
      }
    });
  };

  for (const name of API_METHOD_NAMES) {
    const { channel, request } = API_METHODS[name];
    route(channel, async (_event, payload) => {
      // Checked here too, so a malformed call never reaches the service (which checks again).
      const parsed = request.safeParse(payload);
      if (!parsed.success) return invalid(channel, parsed.error);
      return opts.service.call(channel, payload);
    });
  }

  const choose = DESKTOP_METHODS.chooseFolder;
  route(choose.channel, async (event, payload) => {
    const parsed = choose.request.safeParse(payload as ChooseFolderRequest);
    if (!parsed.success) return invalid(choose.channel, parsed.error);
    return { ok: true, value: await opts.desktop.chooseFolder(parsed.data, event) };
  });

  const chooseFile = DESKTOP_METHODS.chooseFile;
  route(chooseFile.channel, async (event, payload) => {
    const parsed = chooseFile.request.safeParse(payload);
    if (!parsed.success) return invalid(chooseFile.channel, parsed.error);
    return { ok: true, value: await opts.desktop.chooseFile(parsed.data, event) };
  });

  route(DROP_CHANNEL, async (event, payload) => {
    const parsed = DropPathSchema.safeParse(payload);
    if (!parsed.success) return invalid(DROP_CHANNEL, parsed.error);
    await opts.desktop.folderDropped(parsed.data, event);
    return { ok: true, value: null };
  });

  return () => {
    for (const channel of channels) opts.ipcMain.removeHandler(channel);
  };
}
