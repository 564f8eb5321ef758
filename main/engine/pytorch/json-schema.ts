import { z } from 'zod';
import { PROTOCOL_VERSION, TrainerCommandSchema, TrainerEventSchema } from '../../../shared/protocol';
import { CheckpointManifestSchema } from '../runs/checkpoint';
import { RunConfigFileSchema, RunStatusFileSchema, RunSummaryFileSchema } from '../runs/run-files';

/**
 * JSON Schema for the PyTorch engine, generated from the zod schemas with zod 4's `toJSONSchema`,
 * so both engines validate against one source. Every schema describes what zod accepts
 * (`io: 'input'`: fields with a default are optional, unknown keys allowed), so a message is valid
 * on one side exactly when it is on the other. `npm run schemas` writes the file;
 * test/unit/engine/pytorch/json-schema.test.ts fails when the committed copy is stale.
 */
export const SCHEMA_FILE = new URL('./densenet_torch/schemas/protocol.schema.json', import.meta.url);

export function protocolJsonSchemaDocument(): Record<string, unknown> {
  const input = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input' });
  return {
    $comment: 'Generated from the zod schemas in shared/protocol and the run folder schemas by main/engine/pytorch/write-schemas.ts; do not edit.',
    protocolVersion: PROTOCOL_VERSION,
    schemas: {
      command: input(TrainerCommandSchema),
      event: input(TrainerEventSchema),
      runConfig: input(RunConfigFileSchema),
      runStatus: input(RunStatusFileSchema),
      runSummary: input(RunSummaryFileSchema),
      checkpointManifest: input(CheckpointManifestSchema),
    },
  };
}

export function protocolJsonSchemaText(): string {
  return `${JSON.stringify(protocolJsonSchemaDocument(), null, 1)}\n`;
}
