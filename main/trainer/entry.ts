import { toErrorData } from '../../shared/errors';
import { PROTOCOL_VERSION, TrainerCommandSchema, type TrainerEvent } from '../../shared/protocol';
import type { HostLink } from './channel';
import { TrainerSession } from './session';

/**
 * Entry of the trainer process. Started by a host with child_process.fork (CLI, serve; see
 * ./fork) or Electron's utilityProcess (the app); speaks shared/protocol in both cases:
 * - Electron utility process: `process.parentPort` ('message' events carry `{data}`, postMessage);
 * - child_process.fork: `process.on('message')` and `process.send`.
 * Every command is validated on arrival; a malformed one is answered with an `error` event
 * (fatal: false) and the process keeps running.
 */
interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

function hostLink(): HostLink {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (event) => parentPort.postMessage(event),
      onMessage: (listener) => parentPort.on('message', (e) => listener(e.data)),
      // Electron ends a utility process together with its parent; nothing to watch.
      onDisconnect: () => undefined,
    };
  }
  if (!process.send) {
    process.stderr.write('The trainer must be started by a host (child_process.fork or utilityProcess), with an IPC channel.\n');
    process.exit(2);
  }
  return {
    send: (event) => {
      // After the host is gone, events still reach metrics.jsonl (the run's journal); sending is moot.
      if (!process.connected) return;
      process.send!(event as object, undefined, undefined, (err) => {
        // EPIPE: the host closed the channel while this event was on its way (a CLI exits right
        // after `finished`); 'disconnect' follows and the event is in metrics.jsonl already.
        if (err && process.connected && (err as NodeJS.ErrnoException).code !== 'EPIPE') process.stderr.write(`trainer: could not send an event: ${err.message}\n`);
      });
    },
    onMessage: (listener) => process.on('message', listener),
    onDisconnect: (listener) => process.on('disconnect', listener),
  };
}

const channel = hostLink();
const session = new TrainerSession((event: TrainerEvent) => channel.send(event));

channel.onMessage((message) => {
  const parsed = TrainerCommandSchema.safeParse(message);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    channel.send({
      type: 'error',
      error: { name: 'ProtocolError', message: `Rejected a malformed command${where}: ${issue?.message ?? 'invalid'}. Got ${JSON.stringify(message)?.slice(0, 200)}.`, user: false },
      fatal: false,
      time: Date.now(),
    });
    return;
  }
  try {
    session.handle(parsed.data);
  } catch (err) {
    channel.send({ type: 'error', error: toErrorData(err, true), fatal: false, time: Date.now() });
  }
});

/** Stop with a checkpoint, then exit: the host is gone or we were asked to terminate. */
async function shutdown(cause: 'host-lost' | 'terminated'): Promise<void> {
  session.stop(cause);
  await session.idle();
  process.exit(0);
}

channel.onDisconnect(() => void shutdown('host-lost'));
process.on('SIGTERM', () => void shutdown('terminated'));
// Ctrl-C in a terminal reaches the whole process group: the host decides (it sends `stop`).
process.on('SIGINT', () => undefined);
process.on('unhandledRejection', (reason) => {
  channel.send({ type: 'error', error: toErrorData(reason, true), fatal: false, time: Date.now() });
});

channel.send({ type: 'ready', pid: process.pid, protocol: PROTOCOL_VERSION });
