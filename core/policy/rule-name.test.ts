import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ruleLabel, ruleName, rulePlace, rulesNamed } from "./rule-name";

const ROOT = join(__dirname, "..", "..");

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "node_modules" && name !== "__golden__" && name !== "__samples__") sources(path, out);
    } else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

/** Ways of naming a rule by hand that the shared formatter replaced. */
const HAND_MADE = [
  /[Rr]ule #\$\{/, // `rule #${n}`
  /[Rr]ule at position/, // "the rule at position 3"
  /at positions? \$\{/,
  /[Pp]osition \$\{/, // `position ${n}`
  /[Pp]osition \{/, // JSX: position {n}
  /`Rule \$\{(?!rulePlace)[^`]*position/, // `Rule ${matched.position}`
  /#\$\{[^}]*(position|\b(r|rule)\.seq)\b/, // `#${position}`, `#${rule.seq}`
];

describe("naming rules", () => {
  it("names a rule by its place and its comment", () => {
    expect(ruleName(3, { comment: "guest wifi" })).toBe('#3 "guest wifi"');
    expect(ruleName(3, { comment: "" })).toBe("#3");
    expect(ruleName(null, { comment: "printers" })).toBe('"printers"');
    expect(ruleLabel({ comment: `  two\nlines ${"x".repeat(60)}` })).toHaveLength(40);
    expect(rulePlace(12)).toBe("#12");
    expect(rulesNamed([2])).toBe("rule #2");
    expect(rulesNamed([2, 5, 9])).toBe("rules #2, #5 and #9");
  });

  it("is the only producer of a rule's name in the console, the API, the agent and core", () => {
    const offenders: string[] = [];
    for (const dir of ["app", "core", "server", "agent", "cli"]) {
      for (const file of sources(join(ROOT, dir))) {
        if (file.endsWith(join("core", "policy", "rule-name.ts"))) continue;
        readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (HAND_MADE.some((re) => re.test(line)))
              offenders.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(offenders).toEqual([]);
  });
});
