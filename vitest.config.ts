import { defineConfig } from 'vitest/config';

// Two projects: `unit` (no QEMU, no gdb: seconds) and `integration` (files named
// *.integration.test.ts: real QEMU guests under TCG, gdb and the other oracles). On a 2-core
// machine integration files run one or two at a time and get room; unit tests are fast either way.
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.integration.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.integration.test.ts'] } },
    ],
  },
});
