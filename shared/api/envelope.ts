import { z } from 'zod';
import { ErrorDataSchema } from '../protocol';
import type { HostEvent } from './events';

// ---- the envelope every transport uses ---------------------------------------------------------
export const ApiReplySchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: ErrorDataSchema }),
]);
export type ApiReply = z.infer<typeof ApiReplySchema>;

/** An error answered by the host, rethrown on the UI side. `user` errors say what to fix. */
export class ApiError extends Error {
  readonly user: boolean;
  readonly channel: string;
  constructor(channel: string, error: z.infer<typeof ErrorDataSchema>) {
    super(error.message);
    this.name = error.name === 'Error' ? 'ApiError' : error.name;
    this.user = error.user ?? false;
    this.channel = channel;
  }
}

/** WebSocket framing for browser mode: requests carry an id; replies echo it; events have none. */
export const WsRequestSchema = z.object({
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  channel: z.string().max(64),
  payload: z.unknown().optional(),
});
export type WsRequest = z.infer<typeof WsRequestSchema>;
export type WsServerMessage =
  | ({ kind: 'reply'; id: number | null } & ApiReply)
  | { kind: 'events'; events: HostEvent[] };

