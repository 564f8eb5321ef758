import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

// Node >= 25 defines a global localStorage of its own (undefined unless --localstorage-file is
// given), which shadows the DOM environment's in the component tests; turn it off there, as a
// browser has only the page's. Node 20 does not know the flag.
const nodeWebStorage = Number(process.versions.node.split('.')[0]) >= 25 ? ['--no-experimental-webstorage'] : [];

export default defineConfig({
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    execArgv: nodeWebStorage,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
