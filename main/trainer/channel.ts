/**
 * The link between a host and its trainer process, whatever carries it: child_process IPC
 * (./fork), Electron's utilityProcess (main/electron/utility-channel.ts), or JSON lines over a
 * child's stdin/stdout for a trainer in another language. TrainerHost (./host) speaks the protocol
 * over the host's end only, so it cannot tell them apart. Messages are untyped here: the host
 * validates every event, the trainer every command.
 */
export interface MessageLink {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}

export interface TrainerExit {
  code: number | null;
  signal: string | null;
}

/** The host's end: the trainer process behind the link. */
export interface TrainerChannel extends MessageLink {
  /** Called once, when the process has exited for whatever reason. */
  onExit(listener: (exit: TrainerExit) => void): void;
  /** Ends the process (SIGKILL by default: the run folder is safe against it by design). */
  kill(signal?: NodeJS.Signals): void;
  /** The trainer's pid, when the transport knows it. */
  readonly pid?: number;
  /** Closes the link: the trainer stops at the next step with a checkpoint, and exits. Without it, `kill('SIGTERM')` does. */
  disconnect?(): void;
}

/** The trainer's end: its host. */
export interface HostLink extends MessageLink {
  /** Called when the host is gone (the link closed). */
  onDisconnect(listener: () => void): void;
}
