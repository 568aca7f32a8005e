import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts', 'bench/**/*.test.ts', 'workloads/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
