import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // PostgreSQL tests share one server; each file works in its own schema, so files may run in parallel.
    fileParallelism: true,
  },
});
