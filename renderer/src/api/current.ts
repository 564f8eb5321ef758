import type { WorkbenchApi } from '../../../shared/api';

/** The api instance the stores use: set once by main.ts (or a test) before the app mounts. */
let current: WorkbenchApi | null = null;

export function setApi(api: WorkbenchApi): void {
  current = api;
}

export function api(): WorkbenchApi {
  if (!current) throw new Error('The WorkbenchApi is not set; call setApi() before mounting the app.');
  return current;
}
