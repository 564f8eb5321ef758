export const ROOT: string;
export const RENDERER_DIR: string;
/** Builds the renderer into `dir` when it is missing or stale; true when it built. */
export function ensureRendererBuild(dir?: string, log?: (line: string) => void): Promise<boolean>;
