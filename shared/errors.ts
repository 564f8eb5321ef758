/**
 * Errors cross process boundaries as data (Netron's convention): `{name, message, stack?}`.
 * `WorkbenchError.user` marks errors caused by bad input: a CLI exits 2 on them with no stack trace.
 */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  /** True when the user can fix it (bad config, path, file); false for bugs and crashes. */
  user?: boolean;
}

export class WorkbenchError extends Error {
  readonly user: boolean;
  constructor(message: string, options: { user?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'WorkbenchError';
    this.user = options.user ?? true;
  }
}

export function toErrorData(err: unknown, withStack = false): ErrorData {
  if (err instanceof Error) {
    const data: ErrorData = { name: err.name, message: err.message };
    if (err instanceof WorkbenchError) data.user = err.user;
    if (withStack && err.stack) data.stack = err.stack;
    return data;
  }
  return { name: 'Error', message: String(err) };
}
