import type { FieldText } from "./change-text";
import { type Fwmark, formatFwmark } from "./match-criteria";
import type { HealthCheck, RealServer, SorryServer, VsProtocol, VsScheduler } from "./virtual-service";
import { VS_PROTOCOL_LABELS, VS_SCHEDULER_LABELS } from "./virtual-service";
import type { VirtualServiceChange } from "./virtual-service-diff";

/** A virtual service's changed fields in operator words, for the change list. */

export interface VirtualServiceChangeText {
  kind: "virtualService";
  id: string;
  name: string;
  change: VirtualServiceChange["change"];
  fields: FieldText[];
}

function realServersText(list: readonly RealServer[], servicePort: unknown): string {
  if (list.length === 0) return "none";
  return list
    .map((r) => {
      const port = r.port ?? (typeof servicePort === "number" ? servicePort : null);
      const parts = [`${r.address}${port === null ? "" : `:${port}`}`, `weight ${r.weight}`, r.mode.toUpperCase()];
      if (r.state === "draining") parts.push("draining");
      return parts.join(" ");
    })
    .join(", ");
}

function healthCheckText(h: HealthCheck): string {
  if (h.kind === "none") return "none";
  const every = `every ${h.intervalMs} ms, timeout ${h.timeoutMs} ms, up after ${h.rise} good, down after ${h.fall} failed`;
  if (h.kind === "tcp") return `TCP connect ${every}`;
  const body = h.bodyText === "" ? "" : ` containing "${h.bodyText}"`;
  return `${h.kind.toUpperCase()} GET ${h.path} expecting ${h.expectStatus}${body}, ${every}`;
}

/** One field's value as text; `undefined` (absent on that side) is "—". */
export function virtualServiceValueText(path: string, value: unknown, servicePort: unknown = null): string {
  if (value === undefined) return "—";
  switch (path) {
    case "address":
      return value === null ? "none (chosen by fwmark)" : String(value);
    case "fwmark":
      return value === null ? "none (chosen by address)" : formatFwmark(value as Fwmark);
    case "protocol":
      return VS_PROTOCOL_LABELS[value as VsProtocol] ?? String(value);
    case "port":
      return value === null ? "every port" : String(value);
    case "scheduler":
      return `${value} (${VS_SCHEDULER_LABELS[value as VsScheduler] ?? value})`;
    case "persistenceSeconds":
      return value === 0 ? "off" : `${value} s`;
    case "sorryServer": {
      if (value === null) return "none";
      const s = value as SorryServer;
      return s.port === null ? s.address : `${s.address}:${s.port}`;
    }
    case "realServers":
      return realServersText(value as RealServer[], servicePort);
    case "healthCheck":
      return healthCheckText(value as HealthCheck);
    case "comment":
      return value === "" ? "(none)" : `"${value}"`;
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (value === null) return "none";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function virtualServiceChangeText(c: VirtualServiceChange): VirtualServiceChangeText {
  const port = (side: "before" | "after") => c.fields.find((f) => f.path === "port")?.[side];
  return {
    kind: "virtualService",
    id: c.id,
    name: c.name,
    change: c.change,
    fields: c.fields.map((f) => ({
      path: f.path,
      label: f.label,
      before: virtualServiceValueText(f.path, f.before, port("before")),
      after: virtualServiceValueText(f.path, f.after, port("after")),
    })),
  };
}
