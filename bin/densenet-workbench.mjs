#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npm install` needs no build step before the bin works.
import v8 from 'node:v8';
import { register } from 'tsx/esm/api';

// Node 20 (V8 11.3) validates relaxed SIMD only behind this V8 flag (Node >= 22 always does). Set
// before any wasm is compiled, it lets the CLI's own wasm work (bench, eval, inspect, export) load
// the relaxed-SIMD training kernels, as the trainer processes the CLI starts with the flag do.
if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

register();
await import('../main/cli/index.ts');
