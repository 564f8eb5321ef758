import { defineConfig } from 'vitest/config';

/**
 * The fault suite (README, Reliability): `npm run test:faults`. Its long tests are named
 * `*.fault.ts` so that `npm test` (test/**\/*.test.ts) leaves them out; the quick ones in
 * test/faults/ are `*.test.ts` and run in both. Files run one at a time: each one forks trainers
 * or trains for a while, and on two cores they would only slow each other down.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.fault.ts', 'test/faults/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
