// The ready-made compliance suite for CI: no test file to write.
//   IMAGE_AUDIT_TARGET=. npx vitest run --config node_modules/node-image-audit/suites/vitest.config.ts
// The variables it reads are listed in the README ("Use it in CI with vitest").
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  test: {
    root: here,
    include: ['image.suite.ts'],
    // The suite lives in node_modules once installed; vitest excludes node_modules by default.
    exclude: [],
    hookTimeout: 600_000,
    testTimeout: 60_000,
  },
});
