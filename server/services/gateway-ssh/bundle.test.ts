import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleError, readAgentBundle } from "./bundle";

const dir = mkdtempSync(join(tmpdir(), "gh-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the agent bundle", () => {
  it("is known by the version it prints itself, and its sha256", async () => {
    const path = join(dir, "agent.mjs");
    writeFileSync(path, 'if (process.argv[2] === "version") console.log("4.5.6+abc");\n');
    const b = await readAgentBundle(path);
    expect(b.version).toBe("4.5.6+abc");
    expect(b.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.bytes.length).toBeGreaterThan(0);
  });

  it("is refused when missing, broken or silent", async () => {
    await expect(readAgentBundle(join(dir, "missing.mjs"))).rejects.toThrow(/does not exist/);
    const broken = join(dir, "broken.mjs");
    writeFileSync(broken, "throw new Error('boom');\n");
    await expect(readAgentBundle(broken)).rejects.toBeInstanceOf(BundleError);
    const silent = join(dir, "silent.mjs");
    writeFileSync(silent, "\n");
    await expect(readAgentBundle(silent)).rejects.toThrow(/printed no version/);
  });
});
