import type { Command } from 'commander';
import type { DenseNetConfig } from '../../shared/config';
import { WorkbenchError } from '../../shared/errors';
import type { PresetOverrides } from '../../shared/presets';

/**
 * The custom-architecture flags, defined once for every command that builds a DenseNet from a
 * preset (`summary`, `train`): --blocks, --growth-rate, --[no-]bottleneck, --compression,
 * --init-features, --stem and --drop-rate. Any of them but --drop-rate makes the variant `custom`
 * (shared/presets). Only the spelling is checked here; the ranges are validateConfig's, which
 * names what is accepted (`Compression θ must be in (0, 1]; got 1.5.`).
 */
export interface ArchitectureFlags {
  blocks?: string;
  growthRate?: string;
  bottleneck?: boolean;
  compression?: string;
  initFeatures?: string;
  stem?: string;
  dropRate?: string;
}

export function addArchitectureOptions(command: Command): Command {
  return command
    .option('--blocks <list>', 'layers per dense block, e.g. 6,12,24,16')
    .option('--growth-rate <k>', 'growth rate k')
    .option('--bottleneck', 'use bottleneck layers (B)')
    .option('--no-bottleneck', 'no bottleneck layers')
    .option('--compression <theta>', 'transition compression θ in (0, 1]')
    .option('--init-features <n>', 'channels out of the stem')
    .option('--stem <stem>', 'imagenet or cifar')
    .option('--drop-rate <p>', 'dropout after each conv, in [0, 1)');
}

/** A number flag; the value's range is left to validateConfig, which names what is accepted. */
export function numberFlag(text: string, flag: string, example: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new WorkbenchError(`${flag} must be a number, e.g. ${flag} ${example}; got "${text}".`);
  return value;
}

function blocksFlag(text: string): number[] {
  if (!/^\s*\d+(\s*[,-]\s*\d+)*\s*$/.test(text)) {
    throw new WorkbenchError(`--blocks must be layer counts separated by commas, e.g. --blocks 6,12,24,16; got "${text}".`);
  }
  return text.split(/[,-]/).map((s) => Number(s.trim()));
}

/** The overrides the flags give, for getPreset. */
export function architectureOverrides(flags: ArchitectureFlags): PresetOverrides {
  const overrides: PresetOverrides = {};
  if (flags.blocks !== undefined) overrides.blocks = blocksFlag(flags.blocks);
  if (flags.growthRate !== undefined) overrides.growthRate = numberFlag(flags.growthRate, '--growth-rate', '12');
  if (flags.bottleneck !== undefined) overrides.bottleneck = flags.bottleneck;
  if (flags.compression !== undefined) overrides.compression = numberFlag(flags.compression, '--compression', '0.5');
  if (flags.initFeatures !== undefined) overrides.initFeatures = numberFlag(flags.initFeatures, '--init-features', '24');
  // Left unchecked here: validation names the accepted stems.
  if (flags.stem !== undefined) overrides.stem = flags.stem as DenseNetConfig['stem'];
  if (flags.dropRate !== undefined) overrides.dropRate = numberFlag(flags.dropRate, '--drop-rate', '0.2');
  return overrides;
}
