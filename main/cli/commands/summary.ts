import type { Command } from 'commander';
import type { DenseNetConfig } from '../../../shared/config';
import { getPreset, findPreset, type PresetOverrides } from '../../../shared/presets';
import { connectivityGraph, stageDerivations, summarize, type ArchitectureSummary } from '../../../shared/architecture';
import { formatCount, formatInteger, formatVolume } from '../../../shared/format';
import { parseInputShapeArg } from '../dataset-args';
import { addArchitectureOptions, architectureOverrides, numberFlag, type ArchitectureFlags } from '../architecture-flags';

/**
 * `densenet-workbench summary --variant NAME [--input HxWxC] [--classes N] [--json]`: the volume
 * after the stem, each dense block and each transition (the seed article's DenseNet-121 figures),
 * with parameters and multiply-adds. Architecture flags (--blocks, --growth-rate, ...) override the
 * preset and make the variant `custom`. --json prints the summary and the connectivity graph.
 */

interface SummaryFlags extends ArchitectureFlags {
  variant: string;
  input?: string;
  classes?: string;
  json?: boolean;
}

/** The config the flags describe: the preset, with --input, --classes and architecture overrides. */
export function configFromFlags(flags: Omit<SummaryFlags, 'json'>): DenseNetConfig {
  const overrides: PresetOverrides = architectureOverrides(flags);
  if (flags.input !== undefined) overrides.inputShape = parseInputShapeArg(flags.input);
  if (flags.classes !== undefined) overrides.classes = numberFlag(flags.classes, '--classes', '10');
  return getPreset(flags.variant, overrides);
}

/**
 * The readable table: one row per stage, with the trainable parameters and multiply-adds spent
 * reaching it, and how its channels and size follow from the config (64 + 32·6 = 256, ⌊0.5·256⌋).
 */
export function formatSummary(s: ArchitectureSummary): string {
  const c = s.config;
  const title = findPreset(c.variant)?.title ?? 'Custom DenseNet';
  const out: string[] = [];
  out.push(`${title} (${c.variant}): input ${formatVolume(c.inputShape)}, ${c.classes} classes`);
  out.push(
    `k=${c.growthRate}, blocks ${c.blocks.join('-')}, ${c.bottleneck ? 'bottleneck (B)' : 'no bottleneck'}, ` +
      `compression θ=${c.compression}, ${c.initFeatures} initial features, ${c.stem} stem${c.dropRate > 0 ? `, dropout ${c.dropRate}` : ''}`,
  );
  out.push('');

  // Each layer counts towards the first stage at or after it; the classifier gets its own row.
  const derived = stageDerivations(c);
  const rows = s.stages.map((st, i) => ({
    label: st.kind === 'block' && st.block !== null ? `${st.label} (${s.blocks[st.block - 1].layers} layers)` : st.label,
    layer: st.layer,
    shape: st.shape,
    params: 0,
    macs: 0,
    channels: derived[i].channels,
    size: derived[i].spatial ?? '',
  }));
  rows.push({ label: 'Classifier', layer: 'predictions', shape: [c.classes], params: 0, macs: 0, channels: `classes = ${c.classes}`, size: '' });
  let row = 0;
  for (const layer of s.layers) {
    rows[row].params += layer.trainableParams;
    rows[row].macs += layer.macs;
    if (layer.name === rows[row].layer) row++;
  }
  const header = ['Stage', 'Layer', 'Output', 'Params', 'Mult-adds', 'Channels', 'H×W'];
  const table = [header, ...rows.map((r) => [r.label, r.layer, formatVolume(r.shape), r.params ? formatCount(r.params) : '-', r.macs ? formatCount(r.macs) : '-', r.channels, r.size])];
  const widths = header.map((_, i) => Math.max(...table.map((t) => t[i].length)));
  for (const t of table) out.push(t.map((cell, i) => (i === 3 || i === 4 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd());
  out.push('');
  out.push(`Channels: the stem gives k0 = ${c.initFeatures}; dense layer l of a block adds k = ${c.growthRate} (k0 + k·l); a transition keeps ⌊θ·m⌋ of m, θ = ${c.compression}, and halves H×W.`);
  const t = s.totals;
  out.push(`Parameters: ${formatCount(t.trainableParams)} trainable (${formatInteger(t.trainableParams)}), plus ${formatInteger(t.nonTrainableParams)} non-trainable BN statistics`);
  out.push(`Multiply-adds: ${formatCount(t.macs)} per image (convolutions and the classifier)`);
  return out.join('\n') + '\n';
}

export function registerSummary(program: Command): void {
  const command = program
    .command('summary')
    .description('Print a DenseNet variant’s volumes after every stage, parameters and multiply-adds.')
    .requiredOption('--variant <name>', 'preset name (see `densenet-workbench variants`)')
    .option('--input <HxWxC>', 'input shape, e.g. 28x28x1 (default: the preset’s)')
    .option('--classes <n>', 'number of classes (default: the preset’s)');
  addArchitectureOptions(command)
    .option('--json', 'print the summary and the connectivity graph as JSON')
    .action((flags: SummaryFlags) => {
      const config = configFromFlags(flags);
      const summary = summarize(config);
      if (flags.json) {
        process.stdout.write(JSON.stringify({ ...summary, derivations: stageDerivations(config), graph: connectivityGraph(config) }, null, 2) + '\n');
      } else {
        process.stdout.write(formatSummary(summary));
      }
    });
}
