import { z } from 'zod';
import { PRETRAINED_NAMES } from '../start-from';
import { path, runId } from './fields';

/**
 * The WorkbenchApi's pretrained-weights requests, responses and event (see ./methods.ts): the ImageNet
 * weights torchvision publishes and which are in the torch hub cache, a verified download with
 * progress, and what a weights source holds (shared/start-from.ts WeightsSourceInfo).
 */

export const PretrainedCatalogSchema = z.object({
  /** The torch hub cache folder downloads go to. */
  cacheDir: z.string(),
  weights: z.array(z.object({
    name: z.enum(PRETRAINED_NAMES),
    fileName: z.string(),
    url: z.string(),
    megabytes: z.number(),
    imagenetTop1: z.number(),
    /** The cached file, or null when it is not downloaded yet. */
    cached: z.string().nullable(),
  })),
});
export type PretrainedCatalog = z.infer<typeof PretrainedCatalogSchema>;

export const DownloadPretrainedRequestSchema = z.object({ name: z.enum(PRETRAINED_NAMES) });
export type DownloadPretrainedRequest = z.input<typeof DownloadPretrainedRequestSchema>;

export const DownloadedWeightsSchema = z.object({
  file: z.string(),
  bytes: z.number().int().min(0),
  sha256: z.string(),
  /** True when it was in the cache already. */
  cached: z.boolean(),
});
export type DownloadedWeights = z.infer<typeof DownloadedWeightsSchema>;

/** A weights source to read: a file, or a run of the store (by id) and its checkpoint. */
export const DescribeWeightsRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('weights'), file: path }),
  z.object({ kind: z.literal('run'), run: runId, checkpoint: z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/).default('best') }),
]);
export type DescribeWeightsRequest = z.input<typeof DescribeWeightsRequestSchema>;

/** Progress of a download started by `downloadPretrained`, a few times a second. */
export const WeightsDownloadEventSchema = z.object({
  type: z.literal('weightsDownload'),
  name: z.enum(PRETRAINED_NAMES),
  received: z.number().int().min(0),
  total: z.number().int().min(0).nullable(),
  time: z.number().finite(),
});
export type WeightsDownloadEvent = z.infer<typeof WeightsDownloadEventSchema>;

/** Desktop app only: a native file picker for a weights file. */
export const ChooseFileRequestSchema = z.object({ purpose: z.literal('weights'), defaultPath: path.optional() });
export type ChooseFileRequest = z.input<typeof ChooseFileRequestSchema>;
