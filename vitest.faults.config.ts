import { defineConfig } from 'vitest/config';

// `npm run test:faults`: the fault-injection suites of issue 7 (full mode unless FAULTS_MODE=short).
// One file at a time: each drives the gateway hard, and two at once on a small box would measure
// each other instead of the gateway.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 1_200_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    fileParallelism: false,
  },
});
