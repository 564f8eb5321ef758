import type * as tf from '@tensorflow/tfjs';
import { writeOutputFile } from '../output-files';
import { layersModelToOnnx, type OnnxConvertOptions } from './convert';
import { encodeModel } from './proto';

/** Converts and serializes; returns the bytes of the .onnx file. */
export function onnxBytes(model: tf.LayersModel, options: OnnxConvertOptions = {}): Uint8Array {
  return encodeModel(layersModelToOnnx(model, options));
}

/** Writes `file` (e.g. `<out>/model.onnx`) and returns its size in bytes. */
export function writeOnnx(model: tf.LayersModel, file: string, options: OnnxConvertOptions = {}): number {
  const bytes = onnxBytes(model, options);
  writeOutputFile(file, bytes);
  return bytes.length;
}
