#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npm install` needs no build step before the bin works.
import { register } from 'tsx/esm/api';

register();
await import('../main/cli/index.ts');
