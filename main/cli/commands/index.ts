import type { Command } from 'commander';
import { registerBench } from './bench';
import { registerVariants } from './variants';
import { registerSummary } from './summary';
import { registerScan } from './scan';
import { registerInspect } from './inspect';
import { registerServe } from './serve';
import { registerExport } from './export';
import { registerReport } from './report';
import { registerImport } from './import';
import { registerDownload } from './download';
import { registerPredict } from './predict';
import { registerTrain } from './train';
import { registerResume } from './resume';
import { registerEval } from './eval';
import { registerRuns } from './runs';

/** One entry per subcommand file. Add yours here (one line each). */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerBench,
  registerServe,
  registerVariants,
  registerSummary,
  registerScan,
  registerInspect,
  registerExport,
  registerReport,
  registerImport,
  registerDownload,
  registerPredict,
  registerTrain,
  registerResume,
  registerEval,
  registerRuns,
];
