import { preparePtRun, ptSettings, PT_MODEL } from './test/support/pytorch-runs';
const settings = ptSettings({ epochs: 2, checkpointEvery: 4, statsEvery: 3, gradientsEvery: 2 });
await preparePtRun(process.argv[2], { settings });
