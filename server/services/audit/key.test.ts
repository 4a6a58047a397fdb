import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultAuditKeyFile, loadAuditKey } from "./key";

const dir = mkdtempSync(join(tmpdir(), "gatehouse-audit-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the audit key", () => {
  it("is created once, readable by its owner only, and read back the same afterwards", () => {
    const file = join(dir, "sub", "audit.key");
    const first = loadAuditKey({ file });
    expect(first.created).toBe(true);
    expect(first.key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadAuditKey({ file });
    expect(again.created).toBe(false);
    expect(again.key.equals(first.key)).toBe(true);
  });

  it("comes from GATEHOUSE_AUDIT_KEY when that is set, and no file is written", () => {
    const file = join(dir, "unused.key");
    const k = loadAuditKey({ key: "ab".repeat(32), file });
    expect(k.key.toString("hex")).toBe("ab".repeat(32));
    expect(() => statSync(file)).toThrow();
  });

  it("refuses a key that is not 32 bytes, naming where it came from", () => {
    expect(() => loadAuditKey({ key: "short", file: join(dir, "x.key") })).toThrow(/GATEHOUSE_AUDIT_KEY must hold/);
    const file = join(dir, "bad.key");
    writeFileSync(file, "not a key\n", { mode: 0o600 });
    expect(() => loadAuditKey({ file })).toThrow(/bad\.key must hold/);
    expect(readFileSync(file, "utf8")).toBe("not a key\n");
  });

  it("lives next to the SQLite database by default", () => {
    expect(defaultAuditKeyFile("file:/var/lib/gatehouse/gh.db")).toBe("/var/lib/gatehouse/audit.key");
    expect(defaultAuditKeyFile("postgresql://u@h/db")).toMatch(/\/data\/audit\.key$/);
  });
});
