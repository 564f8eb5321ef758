import {
  API_METHODS,
  API_METHOD_NAMES,
  ApiError,
  ApiReplySchema,
  HostEventSchema,
  type ApiMethodName,
  type HostEvent,
  type WorkbenchApi,
} from '../../../shared/api';

/**
 * WorkbenchApi over one WebSocket to `densenet-workbench serve` (browser mode). Requests carry an
 * id; replies echo it. Replies and events are validated like any other input: the host is trusted
 * no more than the UI is. The socket reconnects by itself; calls made while it is down wait for it.
 */
export interface WsApiOptions {
  /** ws://host:port/ws, with ?token= when the page has one (the cookie usually suffices). */
  url: string;
  /** Called when the connection goes down or comes back, for the status bar. */
  onConnection?: (connected: boolean) => void;
  /** Injected for tests; defaults to the browser's WebSocket. */
  WebSocketImpl?: typeof WebSocket;
}

interface Pending {
  method: ApiMethodName;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export function createWsApi(options: WsApiOptions): WorkbenchApi & { close(): void } {
  const Impl = options.WebSocketImpl ?? WebSocket;
  const listeners = new Set<(event: HostEvent) => void>();
  const pending = new Map<number, Pending>();
  const queue: string[] = [];
  let socket: WebSocket | null = null;
  let nextId = 1;
  let retryMs = 250;
  let closed = false;

  const connect = () => {
    const ws = new Impl(options.url);
    socket = ws;
    ws.onopen = () => {
      retryMs = 250;
      options.onConnection?.(true);
      for (const text of queue.splice(0)) ws.send(text);
    };
    ws.onmessage = (m) => receive(String(m.data));
    ws.onclose = () => {
      socket = null;
      options.onConnection?.(false);
      // Requests in flight are lost with the socket; say so rather than hang.
      for (const [id, p] of pending) {
        p.reject(new ApiError(API_METHODS[p.method].channel, { name: 'ConnectionError', message: 'The connection to the workbench server was lost; it reconnects by itself, try again in a moment.' }));
        pending.delete(id);
      }
      if (!closed) {
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 5000);
      }
    };
  };

  const receive = (text: string) => {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    const m = msg as { kind?: string; id?: unknown; events?: unknown };
    if (m.kind === 'events' && Array.isArray(m.events)) {
      for (const raw of m.events) {
        const parsed = HostEventSchema.safeParse(raw);
        if (!parsed.success) continue;
        for (const l of listeners) l(parsed.data);
      }
      return;
    }
    if (m.kind !== 'reply' || typeof m.id !== 'number') return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    const channel = API_METHODS[p.method].channel;
    const reply = ApiReplySchema.safeParse(msg);
    if (!reply.success) return p.reject(new ApiError(channel, { name: 'ProtocolError', message: `The server sent a malformed reply to ${channel}.` }));
    if (!reply.data.ok) return p.reject(new ApiError(channel, reply.data.error));
    const value = API_METHODS[p.method].response.safeParse(reply.data.value);
    if (!value.success) return p.reject(new ApiError(channel, { name: 'ProtocolError', message: `The server's reply to ${channel} does not match the API: ${value.error.issues[0]?.message ?? 'unknown'}.` }));
    p.resolve(value.data);
  };

  const call = (method: ApiMethodName, payload?: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { method, resolve, reject });
      const text = JSON.stringify({ id, channel: API_METHODS[method].channel, payload });
      if (socket && socket.readyState === Impl.OPEN) socket.send(text);
      else queue.push(text);
    });

  connect();

  const api: Record<string, unknown> = {};
  for (const method of API_METHOD_NAMES) api[method] = (payload?: unknown) => call(method, payload);
  api.onEvent = (listener: (event: HostEvent) => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  api.close = () => {
    closed = true;
    socket?.close();
  };
  return api as unknown as WorkbenchApi & { close(): void };
}
