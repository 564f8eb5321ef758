import { z } from 'zod';

/** Field types several API schemas share. */
export const path = z.string().min(1).max(4096);
export const runId = z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/, 'Run ids use letters, digits, ".", "_" and "-" only.');
export const finite = z.number().finite();
