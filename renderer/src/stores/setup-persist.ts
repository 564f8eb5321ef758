import { z } from 'zod';
import type { DenseNetConfig } from '../../../shared/config';
import { DenseNetConfigSchema } from '../../../shared/config';
import { findPreset } from '../../../shared/presets';
import { DatasetSpecSchema, TrainSettingsSchema, type DatasetSpec, type TrainSettings } from '../../../shared/training';

/**
 * The New-run form survives a reload: it is saved to localStorage on every edit and read back on
 * start. What comes back is validated like any other input (the storage is shared with whatever
 * else ran on this origin, and older versions of the app wrote other shapes): each part that does
 * not parse is dropped on its own, and the form keeps its defaults for it. Training settings are
 * checked field by field, so one bad value does not lose the others; a value the user typed that
 * is out of range (epochs −1) is kept, so the form can show what is wrong with it.
 */
export const SETUP_STORAGE_KEY = 'densenet-workbench:new-run:v1';

export interface SavedSetup {
  dataset: DatasetSpec;
  preset: string;
  config: DenseNetConfig;
  settings: TrainSettings;
  name: string;
}

/** Loose field types: the right kind of value, range checks left to the form's live validation. */
const LooseSetting: Record<string, z.ZodType> = Object.fromEntries(
  Object.entries(TrainSettingsSchema.shape).map(([k, s]) => {
    const d = (s as z.ZodType).safeParse(undefined);
    const example = d.success ? d.data : undefined;
    return [k, typeof example === 'number' ? z.number() : (s as z.ZodType)];
  }),
);

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // e.g. storage disabled for this origin
  }
}

/** The saved parts that are still valid; {} when nothing (usable) was saved. */
export function loadSetup(store: Storage | null = storage()): Partial<SavedSetup> {
  let raw: unknown;
  try {
    const text = store?.getItem(SETUP_STORAGE_KEY);
    if (!text) return {};
    raw = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const out: Partial<SavedSetup> = {};
  const dataset = DatasetSpecSchema.safeParse(r.dataset);
  if (dataset.success) out.dataset = dataset.data;
  if (typeof r.preset === 'string' && findPreset(r.preset)) out.preset = r.preset;
  const config = DenseNetConfigSchema.safeParse(r.config);
  if (config.success) out.config = config.data as DenseNetConfig;
  if (typeof r.settings === 'object' && r.settings !== null) {
    const defaults = TrainSettingsSchema.parse({});
    const given = r.settings as Record<string, unknown>;
    const settings: Record<string, unknown> = { ...defaults };
    for (const [k, schema] of Object.entries(LooseSetting)) {
      if (k in given && schema.safeParse(given[k]).success) settings[k] = given[k];
    }
    out.settings = settings as TrainSettings;
  }
  if (typeof r.name === 'string' && r.name.length <= 200) out.name = r.name;
  return out;
}

export function saveSetup(setup: SavedSetup, store: Storage | null = storage()): void {
  try {
    store?.setItem(SETUP_STORAGE_KEY, JSON.stringify(setup));
  } catch {
    // Full or disabled storage: the form still works, it just will not survive a reload.
  }
}
