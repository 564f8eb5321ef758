import type { Command } from 'commander';
import { PRESETS, DEFAULT_DEMO_PRESET } from '../../../shared/presets';
import { summarize } from '../../../shared/architecture';
import { formatCount, formatVolume } from '../../../shared/format';

/** `densenet-workbench variants [--json]`: the presets with their size at their default input. */

export function variantRows() {
  return PRESETS.map((p) => {
    const config = p.config();
    const { totals } = summarize(config);
    return { name: p.name, title: p.title, family: p.family, description: p.description, config, trainableParams: totals.trainableParams, macs: totals.macs };
  });
}

export function registerVariants(program: Command): void {
  program
    .command('variants')
    .description('List the DenseNet presets: torchvision’s ImageNet models, the paper’s CIFAR networks, small demos.')
    .option('--json', 'print the presets, their configs and sizes as JSON')
    .action((flags: { json?: boolean }) => {
      const rows = variantRows();
      if (flags.json) {
        process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      const table = [
        ['Name', 'Title', 'Blocks', 'k', 'Input', 'Params', 'Mult-adds'],
        ...rows.map((r) => [
          r.name + (r.name === DEFAULT_DEMO_PRESET ? ' *' : ''),
          r.title,
          r.config.blocks.join('-'),
          String(r.config.growthRate),
          formatVolume(r.config.inputShape),
          formatCount(r.trainableParams),
          formatCount(r.macs),
        ]),
      ];
      const widths = table[0].map((_, i) => Math.max(...table.map((t) => t[i].length)));
      const lines = table.map((t) => t.map((cell, i) => (i >= 5 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd());
      lines.push('', `* default for MNIST and Fashion-MNIST. Sizes at the default input with 1000 (ImageNet) or 10 classes; see \`summary --variant NAME\`.`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
