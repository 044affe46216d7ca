import { defineConfig } from 'vitest/config';

// Two projects: pure unit tests, and integration tests that build and run real images on the daemon.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // A few unit tests start node (the bin's shims, the runtime helper): a loaded 2-core host needs more than 5 s.
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // Builds and container lifecycles: generous per-hook bounds; every wait inside is bounded too.
          hookTimeout: 240_000,
          testTimeout: 120_000,
          // Two cores: more parallel builds only queue on the daemon.
          maxWorkers: 3,
          // Unit tests first, then the integration run with its own worker count.
          sequence: { groupOrder: 1 },
          pool: 'forks',
        },
      },
    ],
  },
});
