import type { WebSocket } from 'ws';
import { WsRequestSchema, type ApiReply, type HostEvent, type WsServerMessage } from '../../shared/api';

/** What the endpoint needs from the host: the WorkbenchService satisfies it. */
export interface ApiHost {
  call(channel: string, payload: unknown): Promise<ApiReply>;
  subscribe(listener: (batch: HostEvent[]) => void): () => void;
}

/** Replies past this many bytes of backlog are not queued; the client is too slow and is dropped. */
const MAX_BUFFERED = 64 * 1024 * 1024;

/**
 * One browser tab. Every message is parsed and validated before anything acts on it; anything bad
 * is answered with an error as data (id null when the id itself was unreadable) and the socket stays
 * open, so a fuzzer can keep going and the server keeps running.
 */
export function attachSocket(socket: WebSocket, host: ApiHost): void {
  const send = (message: WsServerMessage) => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED) {
      socket.close(1013, 'Client too slow');
      return;
    }
    socket.send(JSON.stringify(message));
  };
  const unsubscribe = host.subscribe((events) => send({ kind: 'events', events }));
  socket.on('close', unsubscribe);
  socket.on('error', unsubscribe);

  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      send({ kind: 'reply', id: null, ok: false, error: { name: 'WorkbenchError', message: 'Binary messages are not accepted; send JSON text.', user: true } });
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data.toString());
    } catch {
      send({ kind: 'reply', id: null, ok: false, error: { name: 'WorkbenchError', message: 'The message is not valid JSON; send {"id", "channel", "payload"}.', user: true } });
      return;
    }
    const request = WsRequestSchema.safeParse(json);
    if (!request.success) {
      const id = typeof (json as { id?: unknown })?.id === 'number' ? ((json as { id: number }).id) : null;
      const detail = request.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ');
      send({ kind: 'reply', id, ok: false, error: { name: 'WorkbenchError', message: `Malformed request (${detail}); send {"id": number, "channel": string, "payload"?}.`, user: true } });
      return;
    }
    const { id, channel, payload } = request.data;
    void host.call(channel, payload).then((reply) => send({ kind: 'reply', id, ...reply }));
  });
}
