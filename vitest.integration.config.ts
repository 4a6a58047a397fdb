import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * Datapath integration tests: real nft, ip and conntrack in network namespaces (run as root).
 * Files run one after another: they send timed traffic, and two at once on two cores would
 * measure each other.
 */
export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./", import.meta.url)) } },
  test: {
    include: ["e2e/datapath/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
