import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandLine } from "../../ssh/quote";
import { type Argv, asRoot, files, isPrivateDir, parseSha256, parseWhich, probe, supervised } from "./commands";
import { agentLayout } from "./layout";

/** Runs a command the way sshd does: its quoted command line through /bin/sh -c. */
const sh = (argv: Argv, input?: string) =>
  execFileSync("/bin/sh", ["-c", commandLine(argv)], { encoding: "utf8", input: input ?? "" });

const dir = mkdtempSync(join(tmpdir(), "gh-commands-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("remote commands", () => {
  it("take hostile values as data, never as shell", () => {
    const evil = join(dir, "a'; touch pwned; echo '$(id)`x`");
    sh(files.write(evil), "content");
    expect(sh(probe.existing([evil, join(dir, "missing")])).trim()).toBe(evil);
    expect(sh(["ls", dir]).split("\n")).not.toContain("pwned");
    expect(parseSha256(sh(files.sha256(evil)))).toBe(
      "ed7002b439e9ac845f22357d822bac1444730fbdb6016d3ec9432297b9ec9f73",
    );
  });

  it("keep a secret in a fresh directory only its owner can enter", () => {
    const made = [sh(files.privateDir).trim(), sh(files.privateDir).trim()];
    try {
      expect(made[0]).not.toBe(made[1]);
      for (const d of made) {
        expect(isPrivateDir(d)).toBe(true);
        expect(statSync(d).mode & 0o777).toBe(0o700);
      }
      const file = `${made[0]}/secret`;
      sh(files.write(file), "ghe_x\n");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, "utf8")).toBe("ghe_x\n");
    } finally {
      for (const d of made) if (isPrivateDir(d)) sh(files.rmTree(d));
    }
    expect(isPrivateDir("/tmp/gatehouse-enroll.")).toBe(false);
    expect(isPrivateDir("/tmp/gatehouse-enroll.abcdefghij/..")).toBe(false);
    expect(isPrivateDir("/")).toBe(false);
  });

  it("find tools by name, empty when missing", () => {
    const found = parseWhich(sh(probe.which(["sh", "no-such-tool-here", "printf"])));
    expect(found.sh).toMatch(/^\/.*\/sh$/);
    expect(found["no-such-tool-here"]).toBeNull();
    // a shell builtin is not a program the agent can run
    expect(found.printf === null || found.printf?.startsWith("/")).toBe(true);
  });

  it("stop only a process that runs what the pid file claims", () => {
    const l = agentLayout(dir);
    const sleeper = execFileSync("/bin/sh", ["-c", "sleep 30 >/dev/null 2>&1 & echo $!"], { encoding: "utf8" }).trim();
    writeFileSync(join(dir, "pid"), sleeper);
    const stopIfRuns = (marker: string) =>
      sh(["sh", "-c", supervised.stopAgent(l)[2] ?? "", "sh", join(dir, "pid"), marker]);
    stopIfRuns("not-what-runs-there");
    expect(() => process.kill(Number(sleeper), 0)).not.toThrow();
    stopIfRuns("sleep");
    expect(() => process.kill(Number(sleeper), 0)).toThrow();
  });

  it("go through sudo only when not root", () => {
    expect(asRoot(["nft", "list", "ruleset"], false)).toEqual(["nft", "list", "ruleset"]);
    expect(asRoot(["nft", "list", "ruleset"], true)).toEqual(["sudo", "-n", "--", "nft", "list", "ruleset"]);
  });
});
