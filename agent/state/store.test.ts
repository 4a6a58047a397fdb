import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StateError, StateStore } from "./store";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function store() {
  const root = mkdtempSync(join(tmpdir(), "gh-agent-state-"));
  dirs.push(root);
  return new StateStore(join(root, "state"));
}

const CREDS = {
  consoleUrl: "https://console.example/",
  agentToken: `gha_${"A".repeat(43)}`,
  gatewayId: "g1",
  gatewayName: "gw1",
  clusterId: "c1",
  clusterName: "lab",
  enrolledAt: "2030-01-01T00:00:00Z",
};

describe("agent state directory", () => {
  it("writes credentials readable by root only and reads them back", () => {
    const s = store();
    expect(s.readCredentials()).toBeUndefined();
    const old = process.umask(0o000);
    try {
      s.writeCredentials(CREDS);
    } finally {
      process.umask(old);
    }
    expect(statSync(join(s.dir, "credentials.json")).mode & 0o777).toBe(0o600);
    expect(statSync(s.dir).mode & 0o777).toBe(0o700);
    expect(s.readCredentials()).toEqual({ ...CREDS, consoleUrl: "https://console.example" });
    expect(readdirSync(s.dir)).toEqual(["credentials.json"]);
  });

  it("replaces files whole and names a damaged one", () => {
    const s = store();
    s.writeLastGood({ revision: 1 });
    s.writeLastGood({ revision: 2 });
    expect(s.readLastGood()?.spec).toEqual({ revision: 2 });
    writeFileSync(join(s.dir, "credentials.json"), "{ half");
    expect(() => s.readCredentials()).toThrow(StateError);
    expect(() => s.readCredentials()).toThrow(/credentials.json is not valid JSON/);
    writeFileSync(join(s.dir, "credentials.json"), JSON.stringify({ ...CREDS, agentToken: "nope" }));
    expect(() => s.readCredentials()).toThrow(/damaged: agentToken is not an agent token/);
  });

  it("reads the credentials again only when the file changed", () => {
    const s = store();
    expect(s.currentCredentials()).toBeUndefined();
    s.writeCredentials(CREDS);
    expect(s.currentCredentials()?.gatewayName).toBe("gw1");
    // the same file: one stat, no read
    const reads = vi.spyOn(s, "readCredentials");
    for (let i = 0; i < 3; i++) expect(s.currentCredentials()?.gatewayName).toBe("gw1");
    expect(reads).not.toHaveBeenCalled();
    // a new enrollment renames a new file into place: read
    s.writeCredentials({ ...CREDS, gatewayName: "gw2" });
    expect(s.currentCredentials()?.gatewayName).toBe("gw2");
    expect(reads).toHaveBeenCalledTimes(1);
    rmSync(join(s.dir, "credentials.json"));
    expect(s.currentCredentials()).toBeUndefined();
  });
});
