import { z } from 'zod';
import { CoreEventSchemas, InspectEventSchemas, type TrainerEvent } from '../protocol';
import { finite, path, runId } from './fields';
import { WeightsDownloadEventSchema } from './weights';

/** What `onEvent` delivers: every trainer event, and the host's own. */
/** The trainer process died without a `finished` event (crash, SIGKILL, out of memory). */
export const TrainerExitEventSchema = z.object({
  type: z.literal('trainerExit'),
  runId: z.string().optional(),
  code: z.number().int().nullable(),
  signal: z.string().nullable(),
  /** A sentence for the UI: what happened and what the user can do. */
  message: z.string(),
  time: finite,
});
/** The run list changed (created, renamed, deleted, status changed): refresh it. */
export const RunsChangedEventSchema = z.object({ type: z.literal('runsChanged'), time: finite });
/** Desktop app: the user picked a dataset folder natively (File ▸ Open, drag and drop): select and scan it. */
export const DatasetChosenEventSchema = z.object({ type: z.literal('datasetChosen'), path, source: z.enum(['menu', 'drop']), time: finite });
/** Desktop app: the user chose a run from File ▸ Open Recent Run: open it. */
export const OpenRunRequestEventSchema = z.object({ type: z.literal('openRunRequest'), runId, time: finite });

/** Everything `onEvent` delivers: every TrainerEvent (shared/protocol) plus host-level events. */
export const HostEventSchema = z.discriminatedUnion('type', [
  ...CoreEventSchemas,
  ...InspectEventSchemas,
  TrainerExitEventSchema,
  RunsChangedEventSchema,
  DatasetChosenEventSchema,
  OpenRunRequestEventSchema,
  WeightsDownloadEventSchema,
]);
export type HostEvent = z.infer<typeof HostEventSchema>;

const HOST_ONLY = new Set<string>([TrainerExitEventSchema, RunsChangedEventSchema, DatasetChosenEventSchema, OpenRunRequestEventSchema, WeightsDownloadEventSchema].map((s) => s.shape.type.value));

/** True for the events a trainer sent (shared/protocol), as opposed to the host's own. */
export function isTrainerEvent(e: HostEvent): e is TrainerEvent {
  return !HOST_ONLY.has(e.type);
}
