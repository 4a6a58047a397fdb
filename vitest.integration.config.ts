import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * Integration tests in network namespaces (run as root): the datapath with real nft, ip and
 * conntrack, gateways over SSH against real sshds, and link failover with the real agent.
 * Files run one after another: they send timed traffic, and two at once on two cores would
 * measure each other.
 */
export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./", import.meta.url)) } },
  test: {
    include: ["e2e/datapath/**/*.test.ts", "e2e/ssh/**/*.test.ts", "e2e/failover/**/*.test.ts", "e2e/ha/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
