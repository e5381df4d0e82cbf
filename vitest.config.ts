import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // every test lives in test/ (test/layout.test.ts checks that none is left beside the code)
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    pool: "forks",
    // A focused test (`it.only`) fails the run instead of silently skipping the others.
    allowOnly: false,
  },
});
