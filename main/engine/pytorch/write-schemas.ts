import * as fs from 'node:fs';
import { protocolJsonSchemaText, SCHEMA_FILE } from './json-schema';

// `npm run schemas`: regenerates the PyTorch engine's JSON Schema from the zod schemas.
fs.writeFileSync(SCHEMA_FILE, protocolJsonSchemaText());
process.stdout.write(`wrote ${SCHEMA_FILE.pathname}\n`);
