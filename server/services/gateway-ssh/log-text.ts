/** The agent's log as people read it. */

const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/**
 * The agent logs JSON lines (journald adds its own prefix); for a job's error message each
 * becomes "time level message (key=value ...)". Lines that are not the agent's JSON stay as they are.
 */
export function compactLog(text: string): string {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      const start = line.indexOf("{");
      if (start < 0) return line;
      try {
        const entry = JSON.parse(line.slice(start)) as Record<string, unknown>;
        const { level, time, msg, service: _service, ...rest } = entry;
        if (typeof msg !== "string") return line;
        const when = typeof time === "string" ? time.slice(11, 19) : "";
        const fields = Object.entries(rest)
          .filter(([, v]) => typeof v === "string" || typeof v === "number" || typeof v === "boolean")
          .map(([k, v]) => `${k}=${String(v).slice(0, 200)}`);
        const head = [when, LEVELS[Number(level)] ?? "", msg].filter(Boolean).join(" ");
        return fields.length > 0 ? `${head} (${fields.join(", ")})` : head;
      } catch {
        return line;
      }
    })
    .join("\n");
}
