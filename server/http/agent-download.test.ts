import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleAgentDownload } from "./agent-download";

describe("agent download", () => {
  let root: string;
  const agent = '#!/usr/bin/env node\nif (process.argv[2] === "version") console.log("9.9.9+abc");\n';
  const unit = "[Service]\nExecStart=/usr/bin/node /usr/local/bin/gatehouse-agent run\n";

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "gh-download-"));
    mkdirSync(join(root, "agent", "systemd"), { recursive: true });
    writeFileSync(join(root, "agent", "systemd", "gatehouse-agent.service"), unit);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("says the build is missing rather than serving nothing", async () => {
    const res = await handleAgentDownload("gatehouse-agent", { projectRoot: root });
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/gatehouse-agent\.mjs does not exist/);
  });

  it("serves the agent's one file with its version and sha256, and the unit", async () => {
    mkdirSync(join(root, "dist"), { recursive: true });
    writeFileSync(join(root, "dist", "gatehouse-agent.mjs"), agent);
    const res = await handleAgentDownload("gatehouse-agent", { projectRoot: root });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toBe(agent);
    expect(res.headers.get("x-gatehouse-agent-version")).toBe("9.9.9+abc");
    expect(res.headers.get("x-gatehouse-agent-sha256")).toBe(createHash("sha256").update(agent).digest("hex"));
    const u = await handleAgentDownload("gatehouse-agent.service", { projectRoot: root });
    expect(u.status).toBe(200);
    expect(await u.text()).toBe(unit);
  });

  it("refuses any other name, including paths, and names the ones there are", async () => {
    for (const name of ["../../etc/passwd", "gatehouse-agent.mjs", "", "constructor", "__proto__"]) {
      const res = await handleAgentDownload(name, { projectRoot: root });
      expect(res.status).toBe(404);
      expect(await res.text()).toContain("there are: gatehouse-agent, gatehouse-agent.service");
    }
  });
});
