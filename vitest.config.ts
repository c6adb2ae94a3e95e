import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: real HTTP tests contend for CPU, so keep the pool small.
    maxWorkers: 2,
    pool: 'forks',
    // Real servers, real sockets and real timers on 2 shared cores: a timing-sensitive case may lose a race once.
    // It must then pass on a retry (the truth tests against the independent servers get two, in their file).
    retry: 1,
  },
});
