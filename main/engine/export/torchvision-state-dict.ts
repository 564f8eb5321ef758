import type * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import { torchvisionNameMap } from '../model/torchvision';
import { getModelWeights } from '../train/model-weights';
import { hwioToOihw } from './onnx/layer-graph';

/**
 * The model's weights as a torchvision DenseNet state dict, the inverse of the import mapping
 * (../import/torchvision-weights.ts): every weight under its torchvision key through the name map
 * (../model/torchvision.ts), convs HWIO→OIHW, the classifier IO→OI. The batch norms'
 * `num_batches_tracked` buffers are left out: the workbench does not count them, and PyTorch's
 * `load_state_dict` fills a missing one with 0 (BatchNorm's `_load_from_state_dict`).
 */
export interface TorchTensor {
  shape: number[];
  data: Float32Array;
}

export function torchvisionStateDict(model: tf.LayersModel, config: DenseNetConfig): Map<string, TorchTensor> {
  const byName = new Map(getModelWeights(model).map((w) => [w.name, w]));
  const out = new Map<string, TorchTensor>();
  for (const row of torchvisionNameMap(config)) {
    const w = byName.get(`${row.keras}/${row.weight}`);
    if (!w) throw new WorkbenchError(`Internal error: the model has no weight ${row.keras}/${row.weight} for ${row.torch}.`, { user: false });
    if (row.layout === 'OIHW->HWIO') {
      const [h, k, i, o] = w.shape;
      out.set(row.torch, { shape: [o, i, h, k], data: hwioToOihw(w.data, w.shape) });
    } else if (row.layout === 'OI->IO') {
      const [i, o] = w.shape;
      out.set(row.torch, { shape: [o, i], data: transpose(w.data, i, o) });
    } else {
      out.set(row.torch, { shape: w.shape, data: w.data });
    }
  }
  return out;
}

/** [rows, cols] row-major → [cols, rows] row-major. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}
