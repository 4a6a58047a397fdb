"use client";

import "./history.css";

/** Small pieces the timeline, the event page and the revisions page share. */

export function formatTime(at: Date | string): string {
  const d = new Date(at);
  return d.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function relative(at: Date | string | null, now = Date.now()): string {
  if (at === null) return "unknown";
  const s = Math.round((now - new Date(at).getTime()) / 1000);
  if (s < 45) return "just now";
  const units: Array<[number, string]> = [
    [60, "minute"],
    [3600, "hour"],
    [86400, "day"],
    [86400 * 30, "month"],
    [86400 * 365, "year"],
  ];
  let label = "";
  for (const [size, name] of units) {
    if (s >= size * 0.75) {
      const n = Math.max(1, Math.round(s / size));
      label = `${n} ${name}${n === 1 ? "" : "s"} ago`;
    }
  }
  return label || "just now";
}

/** A time with the exact value on hover, as a <time> element; null: a stored time that cannot be read. */
export function When({ at }: { at: Date | string | null }) {
  if (at === null) return <span className="badge danger">unreadable time</span>;
  const d = new Date(at);
  return (
    <time dateTime={d.toISOString()} title={d.toISOString()} className="hx-when">
      {formatTime(d)}
    </time>
  );
}

const ACTOR_KIND: Record<string, string> = { user: "", agent: "agent", system: "automatic" };

export function Actor({ name, type }: { name: string; type: string }) {
  const kind = ACTOR_KIND[type] ?? type;
  return (
    <span>
      {name || <span className="hx-none">unknown</span>}
      {kind && (
        <span className="badge" style={{ marginLeft: 6 }}>
          {kind}
        </span>
      )}
    </span>
  );
}

/** A before/after value: text as is, anything else as JSON; ids of known entities get their names. */
export function Value({ value, names }: { value: unknown; names?: Record<string, string> }) {
  if (value === undefined) return <span className="hx-none">not set</span>;
  if (value === null) return <span className="hx-none">none</span>;
  if (typeof value === "string") {
    const name = names?.[value];
    return (
      <span className="hx-value">
        {value === "" ? <span className="hx-none">empty</span> : value}
        {name && <span className="muted"> ({name})</span>}
      </span>
    );
  }
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return (
      <span className="hx-value">
        {value.length === 0 ? <span className="hx-none">empty list</span> : null}
        {value.map((v, i) => (
          <span key={i}>
            {i > 0 && ", "}
            {v}
            {names?.[v] && <span className="muted"> ({names[v]})</span>}
          </span>
        ))}
      </span>
    );
  }
  return <span className="hx-value">{JSON.stringify(value, null, 2)}</span>;
}

export const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
