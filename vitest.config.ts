import { defineConfig } from 'vitest/config';

// Integration tests boot real QEMU guests under TCG on a 2-core machine: run files one or two at a
// time and give them room; unit tests are fast either way.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
  },
});
