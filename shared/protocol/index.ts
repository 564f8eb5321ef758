import { z } from 'zod';
import { CoreEventSchemas } from './trainer';
import { InspectEventSchemas } from './inspect';

export * from './trainer';
export * from './inspect';

/** Every event a trainer emits, keyed on `type`. */
export const TrainerEventSchema = z.discriminatedUnion('type', [...CoreEventSchemas, ...InspectEventSchemas]);
export type TrainerEvent = z.infer<typeof TrainerEventSchema>;
export type TrainerEventOf<T extends TrainerEvent['type']> = Extract<TrainerEvent, { type: T }>;

/** Epoch-level events are never dropped by the UI throttle. */
export const NEVER_DROPPED: ReadonlySet<TrainerEvent['type']> = new Set([
  'ready', 'state', 'epoch', 'log', 'error', 'finished', 'contributions', 'activations', 'ablation', 'evaluation', 'inspectDone',
]);
