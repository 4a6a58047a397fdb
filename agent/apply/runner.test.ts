import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { execRunner, readGatewayFile } from "./runner";

const dir = mkdtempSync(join(tmpdir(), "gatehouse-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("readGatewayFile", () => {
  const file = join(dir, "nf_conntrack_count");
  writeFileSync(file, "4711\n");

  it("reads the gateway's own files in place", async () => {
    const runner = execRunner();
    expect(runner.readFile).toBeDefined();
    expect(await readGatewayFile(runner, file)).toBe("4711\n");
    expect(await readGatewayFile(runner, "/proc/self/stat")).toMatch(/^\d+ \(/);
  });

  it("is null for a file that is not there (a kernel without conntrack loaded)", async () => {
    expect(await readGatewayFile(execRunner(), join(dir, "missing"))).toBeNull();
  });

  it("reads with cat through a runner that enters another namespace", async () => {
    // a prefix stands for `ip netns exec NAME`: this process's files are not that namespace's
    const runner = execRunner({ prefix: ["env"] });
    expect(runner.readFile).toBeUndefined();
    expect(await readGatewayFile(runner, file)).toBe("4711\n");
    expect(await readGatewayFile(runner, join(dir, "missing"))).toBeNull();
  });
});
