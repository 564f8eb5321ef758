import type { DenseNetConfig } from '../../../shared/config';
import { planTrainingMemory, type MemoryPlan, type MemoryPlanRequest } from '../../../shared/memory-plan';
import type { TrainSettings } from '../../../shared/training';
import type { BackendReport } from '../backend';

/**
 * The memory plan of a run's training step on its backend (shared/memory-plan.ts): before the data
 * loads and the model is built, so a step that cannot fit the wasm heap is refused at once, with
 * the model, input, batch, heap needed and the largest batch that fits.
 */
export function planRunMemory(backend: BackendReport, model: DenseNetConfig, settings: TrainSettings): { request: MemoryPlanRequest; plan: MemoryPlan } {
  const request: MemoryPlanRequest = {
    config: model, batch: settings.batchSize, optimizer: settings.optimizer,
    heapLimitBytes: backend.name === 'wasm' ? (backend.heapLimitBytes ?? null) : null, heapBaseBytes: backend.heapBaseBytes ?? 0,
    memoryEfficient: settings.memoryEfficient, microBatch: settings.microBatch,
  };
  return { request, plan: planTrainingMemory(request) };
}

/** The plan as the backend report records it in config.json. */
export function memoryRecord(plan: MemoryPlan): Record<string, unknown> {
  return { memoryEfficient: plan.memoryEfficient, microBatch: plan.microBatch, estimatedPeakBytes: Math.round(plan.peakBytes), notes: plan.notes };
}
