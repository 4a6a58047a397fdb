import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { commandLine, shellQuote, UnsafeArgumentError } from "./quote";

/** What /bin/sh makes of a command line: each argument on its own line, as printf sees them. */
function shellArgs(line: string): string[] {
  const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

describe("shell quoting", () => {
  it("leaves plain words alone", () => {
    expect(shellQuote("/usr/local/bin/gatehouse-agent")).toBe("/usr/local/bin/gatehouse-agent");
    expect(shellQuote("--state-dir")).toBe("--state-dir");
  });

  it("quotes everything a shell would interpret", () => {
    for (const arg of [
      "a b",
      "$(id)",
      "`id`",
      "x;rm -rf /",
      "it's",
      "*",
      "~",
      "a=b",
      "",
      "a\nb",
      "\\",
      '"q"',
      "&",
      "|",
    ]) {
      expect(shellArgs(shellQuote(arg))).toEqual([arg]);
    }
  });

  it("keeps arguments apart in a command line", () => {
    const argv = ["printf-arg", "two words", "'", "$HOME", "--x=$(reboot)"];
    expect(shellArgs(commandLine(argv).replace(/^\S+ /, ""))).toEqual(argv.slice(1));
  });

  it("refuses what cannot be passed safely", () => {
    expect(() => shellQuote("a\0b")).toThrow(UnsafeArgumentError);
    expect(() => commandLine([])).toThrow(UnsafeArgumentError);
  });
});
