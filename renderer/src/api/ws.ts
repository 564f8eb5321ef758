import { ApiError, type WorkbenchApi } from '../../../shared/api';
import { createApiClient } from '../../../shared/api/client';

/**
 * WorkbenchApi over one WebSocket to `densenet-workbench serve` (browser mode): the transport under
 * the shared client core (shared/api/client.ts), which checks every reply and event. Requests carry
 * an id; replies echo it. The socket reconnects by itself; calls made while it is down wait for it.
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
  channel: string;
  resolve: (reply: unknown) => void;
  reject: (err: Error) => void;
}

export function createWsApi(options: WsApiOptions): WorkbenchApi & { close(): void } {
  const Impl = options.WebSocketImpl ?? WebSocket;
  const listeners = new Set<(batch: unknown) => void>();
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
        p.reject(new ApiError(p.channel, { name: 'ConnectionError', message: 'The connection to the workbench server was lost; it reconnects by itself, try again in a moment.' }));
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
    if (m.kind === 'events') {
      for (const l of listeners) l(m.events);
      return;
    }
    if (m.kind !== 'reply' || typeof m.id !== 'number') return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    p.resolve(msg);
  };

  const api = createApiClient({
    request: (channel, payload) =>
      new Promise<unknown>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { channel, resolve, reject });
        const text = JSON.stringify({ id, channel, payload });
        if (socket && socket.readyState === Impl.OPEN) socket.send(text);
        else queue.push(text);
      }),
    subscribe: (onBatch) => {
      listeners.add(onBatch);
      return () => listeners.delete(onBatch);
    },
  });
  connect();
  return Object.assign(api, {
    close() {
      closed = true;
      socket?.close();
    },
  });
}
