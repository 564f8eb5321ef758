import type { Command } from 'commander';
import { WorkbenchError } from '../../../shared/errors';
import { exportRun, type ExportFormat } from '../../engine/export/export-run';
import { resolveRunDir } from '../../engine/runs/run-store';
import { addRunsOption, runsDirOf } from '../runs-option';

/**
 * `densenet-workbench export RUN --format tfjs|onnx|torchvision [--out DIR] [--fold-bn] [--checkpoint best]`:
 * writes the model and preprocessing.json into one folder.
 */
interface ExportFlags {
  format: string;
  out?: string;
  foldBn?: boolean;
  checkpoint: string;
  layout?: string;
  runs?: string;
}

const FORMAT_TITLES: Record<string, string> = { tfjs: 'TF.js Layers', onnx: 'ONNX opset 13', torchvision: 'a torchvision state dict' };

export function registerExport(program: Command): void {
  const command = program
    .command('export')
    .description('Export a run as TF.js (model.json + weights.bin), ONNX (model.onnx) or a torchvision state dict (model.safetensors + load_densenet.py), with preprocessing.json beside it.')
    .argument('<run>', 'a run folder, or the id or name of a run under --runs')
    .requiredOption('--format <format>', 'tfjs, onnx or torchvision')
    .option('--out <dir>', 'output folder (default <run>/exports/<format>)')
    .option('--fold-bn', 'ONNX: fold each batch norm that directly follows a conv into it')
    .option('--checkpoint <which>', 'best, latest, or a checkpoint name such as step-000000100', 'best')
    .option('--layout <layout>', 'ONNX input layout: NCHW (default) or NHWC');
  addRunsOption(command).action(async (run: string, flags: ExportFlags) => {
    if (!['tfjs', 'onnx', 'torchvision'].includes(flags.format)) throw new WorkbenchError(`--format must be tfjs, onnx or torchvision; got "${flags.format}".`);
    if (flags.layout !== undefined && flags.format !== 'onnx') throw new WorkbenchError('--layout applies to ONNX exports only; TF.js models take NHWC input, PyTorch NCHW.');
    const layout = (flags.layout ?? 'NCHW').toUpperCase();
    if (layout !== 'NCHW' && layout !== 'NHWC') throw new WorkbenchError(`--layout must be NCHW or NHWC; got "${flags.layout}".`);
    const result = await exportRun(resolveRunDir(run, runsDirOf({ runs: flags.runs })), {
      format: flags.format as ExportFormat,
      out: flags.out,
      foldBn: Boolean(flags.foldBn),
      checkpoint: flags.checkpoint,
      layout,
    });
    const pre = result.preprocessing;
    process.stdout.write(
      `Exported ${pre.variant} (${pre.source.checkpoint}, step ${pre.source.step}) as ${FORMAT_TITLES[flags.format] ?? flags.format}${flags.foldBn ? ', batch norms folded' : ''} to ${result.dir}:\n` +
        result.files.map((f) => `  ${f}\n`).join('') +
        `Input ${pre.input.layout} ${pre.input.height}×${pre.input.width}×${pre.input.channels}, ${pre.classes.length} classes; see preprocessing.json.\n`,
    );
  });
}
