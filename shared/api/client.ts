import {
  API_METHODS,
  API_METHOD_NAMES,
  ApiError,
  ApiReplySchema,
  DESKTOP_METHODS,
  DESKTOP_METHOD_NAMES,
  HostEventSchema,
  type HostEvent,
  type WorkbenchApi,
} from './index';

/**
 * The one client core of the WorkbenchApi, under every transport (browser mode's WebSocket,
 * renderer/src/api/ws.ts; Electron's preload bridge, main/electron/preload-api.ts; tests). A
 * transport only moves a request out and the raw reply back, and hands over raw event batches;
 * here every reply is checked against the envelope and the method's response schema, and every
 * event against HostEventSchema (events that fail are dropped), since the host is trusted no more
 * than the UI is. Methods reject with ApiError.
 */
export interface ApiTransport {
  /** Sends one request on `channel`; resolves with the host's reply as it arrived, unchecked. */
  request(channel: string, payload: unknown): Promise<unknown>;
  /** Delivers each batch of events as it arrived; returns the function that unsubscribes. */
  subscribe(onBatch: (batch: unknown) => void): () => void;
}

type Method = { channel: string; response: { safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { issues: { message: string }[] } } } };

async function call(transport: ApiTransport, method: Method, payload: unknown): Promise<unknown> {
  const { channel } = method;
  const raw = await transport.request(channel, payload);
  const reply = ApiReplySchema.safeParse(raw);
  if (!reply.success) throw new ApiError(channel, { name: 'ProtocolError', message: `The host answered ${channel} with something that is not a reply; restart the app or reload the page.` });
  if (!reply.data.ok) throw new ApiError(channel, reply.data.error);
  const value = method.response.safeParse(reply.data.value);
  if (!value.success) {
    throw new ApiError(channel, { name: 'ProtocolError', message: `The host's reply to ${channel} does not match the API: ${value.error.issues[0]?.message ?? 'unknown'}.` });
  }
  return value.data;
}

/** A WorkbenchApi over `transport`; `desktop` adds the desktop-only methods (native dialogs). */
export function createApiClient(transport: ApiTransport, options: { desktop?: boolean } = {}): WorkbenchApi {
  const api: Record<string, unknown> = {};
  for (const name of API_METHOD_NAMES) api[name] = (payload?: unknown) => call(transport, API_METHODS[name], payload);
  if (options.desktop) {
    for (const name of DESKTOP_METHOD_NAMES) api[name] = (payload?: unknown) => call(transport, DESKTOP_METHODS[name], payload);
  }
  api.onEvent = (listener: (event: HostEvent) => void) => {
    if (typeof listener !== 'function') throw new TypeError(`onEvent needs a function; got ${typeof listener}.`);
    return transport.subscribe((batch) => {
      if (!Array.isArray(batch)) return;
      for (const raw of batch) {
        const parsed = HostEventSchema.safeParse(raw);
        if (parsed.success) listener(parsed.data);
      }
    });
  };
  return api as unknown as WorkbenchApi;
}
