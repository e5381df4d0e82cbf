import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    pool: "forks",
    // A focused test (`it.only`) fails the run instead of silently skipping the others.
    allowOnly: false,
  },
});
