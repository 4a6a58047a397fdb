import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Sample lines of the Prometheus text format: name{labels} value (NaN in any case, as the
 * format's float parser takes it); refuses anything else.
 */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)$/.exec(
        line,
      );
    if (m === null) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ""}`, Number(m[3]));
  }
  return samples;
}

const PROMTOOL_PATHS = ["/var/cache/gatehouse-test/promtool", "/usr/bin/promtool"];

/**
 * Prometheus's own checker (`promtool check metrics`, placed by scripts/ensure-system-packages.sh)
 * on an exposition: its complaints, "" when it has none. Without promtool the check is skipped,
 * except in CI, where its absence is an error.
 */
export function promtoolProblems(text: string): string {
  const path = PROMTOOL_PATHS.find((p) => existsSync(p));
  if (path === undefined) {
    if (process.env.CI) throw new Error("promtool is missing: run scripts/ensure-system-packages.sh");
    return "";
  }
  const r = spawnSync(path, ["check", "metrics"], { input: text, encoding: "utf8", timeout: 20_000 });
  if (r.error) throw r.error;
  return r.status === 0 ? "" : `${r.stdout}${r.stderr}`.trim() || `promtool exited with ${r.status}`;
}
