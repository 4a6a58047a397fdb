import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./", import.meta.url)) } },
  test: {
    include: [
      "core/**/*.test.ts",
      "server/**/*.test.ts",
      "agent/**/*.test.ts",
      "cli/**/*.test.ts",
      "app/**/*.test.ts",
      "scripts/**/*.test.ts",
      "testkit/**/*.test.ts",
      "e2e/agent/**/*.test.ts",
    ],
    environment: "node",
    // a fixed audit chain key, so no test writes a key file next to the default database
    env: { GATEHOUSE_AUDIT_KEY: "a1".repeat(32) },
    // a private PostgreSQL cluster, started on first use by tests that need one
    globalSetup: ["testkit/postgres.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
