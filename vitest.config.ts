import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    exclude: ['test/faults/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Gateway and dashboard tests spawn real processes; two cores do not like many at once.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
