import type { TrainSettings } from '../../../shared/training';

/**
 * Learning-rate schedules as pure functions of (step, stepsPerEpoch, settings): no schedule object
 * carries state, so a resumed run computes exactly the rate the uninterrupted run would have used.
 * `step` is the 0-based index of the step about to be taken.
 *
 * The paper's recipe (§4.2) is `multistep` with milestones at 50% and 75% of the epochs and
 * gamma 0.1. Epoch-based schedules (multistep, step) change the rate at epoch boundaries, as
 * PyTorch's MultiStepLR/StepLR stepped once an epoch do; cosine and one-cycle change it every step.
 */
export type ScheduleSettings = Pick<TrainSettings, 'lr' | 'schedule' | 'milestones' | 'gamma' | 'stepEpochs' | 'warmupEpochs' | 'epochs'>;

/** One-cycle (Smith & Topin 2019) as PyTorch's OneCycleLR defaults: 30% up, then cosine down. */
export const ONE_CYCLE = { pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4 } as const;

function checkArgs(step: number, stepsPerEpoch: number): void {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`A schedule step must be an integer ≥ 0; got ${step}.`);
  if (!Number.isInteger(stepsPerEpoch) || stepsPerEpoch < 1) {
    throw new RangeError(`Steps per epoch must be an integer ≥ 1; got ${stepsPerEpoch}.`);
  }
}

/** Milestone epochs of `multistep`: each fraction of the run, rounded to a whole epoch. */
export function milestoneEpochs(settings: Pick<TrainSettings, 'milestones' | 'epochs'>): number[] {
  return settings.milestones.map((f) => Math.round(f * settings.epochs));
}

function cosineAnneal(from: number, to: number, fraction: number): number {
  return to + ((from - to) * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, fraction))))) / 2;
}

/** The rate the schedule gives at `step`, before warm-up. */
function scheduled(step: number, stepsPerEpoch: number, s: ScheduleSettings): number {
  const epoch = Math.floor(step / stepsPerEpoch);
  const totalSteps = s.epochs * stepsPerEpoch;
  const warmupSteps = warmupStepCount(stepsPerEpoch, s);
  switch (s.schedule) {
    case 'constant':
      return s.lr;
    case 'multistep': {
      const passed = milestoneEpochs(s).filter((m) => epoch >= m).length;
      return s.lr * s.gamma ** passed;
    }
    case 'step':
      return s.lr * s.gamma ** Math.floor(epoch / s.stepEpochs);
    case 'cosine': {
      // Anneal over the steps after warm-up, reaching 0 at the last step (SGDR without restarts).
      const span = Math.max(1, totalSteps - warmupSteps);
      return cosineAnneal(s.lr, 0, (step - warmupSteps) / span);
    }
    case 'onecycle': {
      const initial = s.lr / ONE_CYCLE.divFactor;
      const final = initial / ONE_CYCLE.finalDivFactor;
      const peak = Math.max(1, Math.round(ONE_CYCLE.pctStart * totalSteps) - 1);
      if (step <= peak) return cosineAnneal(initial, s.lr, step / peak);
      return cosineAnneal(s.lr, final, (step - peak) / Math.max(1, totalSteps - 1 - peak));
    }
  }
}

/** Warm-up steps; one-cycle has its own ramp, so warm-up does not apply to it. */
export function warmupStepCount(stepsPerEpoch: number, s: Pick<ScheduleSettings, 'warmupEpochs' | 'schedule'>): number {
  if (s.schedule === 'onecycle') return 0;
  return Math.round(s.warmupEpochs * stepsPerEpoch);
}

/**
 * The learning rate for `step`. During warm-up the scheduled rate is scaled linearly from
 * 1/W up to 1 over the W warm-up steps (Goyal et al. 2017, "gradual warmup").
 */
export function learningRateAt(step: number, stepsPerEpoch: number, settings: ScheduleSettings): number {
  checkArgs(step, stepsPerEpoch);
  const lr = scheduled(step, stepsPerEpoch, settings);
  const warmup = warmupStepCount(stepsPerEpoch, settings);
  if (step < warmup) return (lr * (step + 1)) / warmup;
  return lr;
}
