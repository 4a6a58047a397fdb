import { describeHaIncident, type HaIncident } from "../health/ha-incidents";

/**
 * Alert incidents of a cluster, decided from what the console already knows (its gateways' last
 * reports, the failover state, the HA incidents). An incident keeps its key while it lasts: the
 * console sends one message when a key appears and one when it disappears.
 *
 * Adding a kind of incident is one entry in INCIDENT_DETECTORS: a function from the facts to the
 * incidents of that kind. A kind that needs facts the console does not gather yet adds an optional
 * field to AlertFacts and fills it in server/services/alerts/facts.ts.
 */

export type Severity = "warning" | "critical";

export interface AlertIncident {
  /** stable while the incident lasts, unique within the cluster: `<kind>:<what it is about>` */
  key: string;
  kind: string;
  severity: Severity;
  /** one line, operator words */
  subject: string;
  /** what happened and what it means */
  detail: string;
}

export interface GatewayFacts {
  id: string;
  name: string;
  /** has it reported within the offline time; null: enrolled but never reported (not an incident) */
  online: boolean | null;
  /** its last apply attempt: null when none */
  lastApplyOk: boolean | null;
  lastApplyError: string;
  /** the link state it last reported per ISP id, and where it sends that ISP's traffic */
  isps: Record<string, { state: string; reason: string; failoverTo: string | null }>;
}

export interface IspFacts {
  id: string;
  name: string;
  /** failed over by an operator (the console's failover state) */
  failedOverTo: string | null;
}

export interface AlertFacts {
  gateways: GatewayFacts[];
  isps: IspFacts[];
  /** the cluster's open HA incidents (core/health/ha-incidents.ts), as the console keeps them */
  haIncidents: HaIncident[];
  /** open port usage incidents of online gateways' pool addresses (core/health/port-usage.ts), worded */
  poolUsage?: Array<{
    key: string;
    level: "warning" | "alert";
    gatewayName: string;
    poolName: string;
    address: string;
    text: string;
  }>;
}

export type IncidentDetector = (facts: AlertFacts) => AlertIncident[];

const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(", ");

function ispName(facts: AlertFacts, id: string): string {
  return facts.isps.find((i) => i.id === id)?.name ?? id;
}

/** An ISP that an online gateway measures down. Offline gateways' reports are stale and left out. */
const ispDown: IncidentDetector = (facts) =>
  facts.isps.flatMap((isp) => {
    const seenDown = facts.gateways.filter((g) => g.online === true && g.isps[isp.id]?.state === "down");
    if (seenDown.length === 0) return [];
    const reasons = [...new Set(seenDown.map((g) => g.isps[isp.id]?.reason ?? "").filter((r) => r !== ""))];
    return [
      {
        key: `isp_down:${isp.id}`,
        kind: "isp_down",
        severity: "critical" as const,
        subject: `ISP "${isp.name}" is down`,
        detail:
          `Gateway${seenDown.length > 1 ? "s" : ""} ${quoted(seenDown.map((g) => g.name))} measure${seenDown.length > 1 ? "" : "s"} ISP "${isp.name}" down` +
          (reasons.length > 0 ? `: ${reasons.join("; ")}` : "."),
      },
    ];
  });

/** An ISP whose traffic goes through a backup: failed over by an operator or by a gateway's agent. */
const ispFailedOver: IncidentDetector = (facts) =>
  facts.isps.flatMap((isp) => {
    const byAgents = facts.gateways.filter((g) => g.online === true && (g.isps[isp.id]?.failoverTo ?? null) !== null);
    if (isp.failedOverTo === null && byAgents.length === 0) return [];
    const to = isp.failedOverTo ?? byAgents[0]?.isps[isp.id]?.failoverTo ?? "";
    const who =
      isp.failedOverTo !== null
        ? "an operator failed it over"
        : `gateway${byAgents.length > 1 ? "s" : ""} ${quoted(byAgents.map((g) => g.name))} failed it over`;
    return [
      {
        key: `isp_failed_over:${isp.id}`,
        kind: "isp_failed_over",
        severity: "warning" as const,
        subject: `ISP "${isp.name}" is failed over to "${ispName(facts, to)}"`,
        detail: `Traffic for ISP "${isp.name}" leaves through "${ispName(facts, to)}": ${who}.`,
      },
    ];
  });

const gatewayOffline: IncidentDetector = (facts) =>
  facts.gateways
    .filter((g) => g.online === false)
    .map((g) => ({
      key: `gateway_offline:${g.id}`,
      kind: "gateway_offline",
      severity: "critical" as const,
      subject: `Gateway "${g.name}" is offline`,
      detail: `Gateway "${g.name}" has stopped reporting to the console. It keeps enforcing what it last applied, if it is running at all.`,
    }));

const applyFailed: IncidentDetector = (facts) =>
  facts.gateways
    .filter((g) => g.lastApplyOk === false)
    .map((g) => ({
      key: `apply_failed:${g.id}`,
      kind: "apply_failed",
      severity: "critical" as const,
      subject: `Gateway "${g.name}" failed to apply its policy`,
      detail: `Gateway "${g.name}" keeps running what it applied before. Its error: ${g.lastApplyError || "(none given)"}`,
    }));

function haDetector(kind: HaIncident["kind"], severity: Severity): IncidentDetector {
  return (facts) => {
    const nameOf = (id: string) => facts.gateways.find((g) => g.id === id)?.name ?? id;
    return facts.haIncidents
      .filter((i) => i.kind === kind)
      .map((i) => ({
        key: i.key,
        kind,
        severity,
        subject:
          kind === "split_brain"
            ? `Split brain in VRRP group "${i.group}"`
            : `No healthy backup for VRRP group "${i.group}"`,
        detail: describeHaIncident(i, nameOf),
      }));
  };
}

/** A pool address filling its port range: its warning (80%) and its alert (95%) are each an incident. */
const poolUsage: IncidentDetector = (facts) =>
  (facts.poolUsage ?? []).map((u) => ({
    key: `pool_usage:${u.key}:${u.level}`,
    kind: "pool_usage",
    severity: u.level === "alert" ? ("critical" as const) : ("warning" as const),
    subject: `Pool "${u.poolName}" address ${u.address} on "${u.gatewayName}" is ${u.level === "alert" ? "nearly out of ports" : "filling its ports"}`,
    detail: u.text,
  }));

/** Every kind of incident the console alerts on, and how each is decided. One line per kind. */
export const INCIDENT_DETECTORS = {
  isp_down: ispDown,
  isp_failed_over: ispFailedOver,
  gateway_offline: gatewayOffline,
  apply_failed: applyFailed,
  no_healthy_backup: haDetector("no_healthy_backup", "critical"),
  split_brain: haDetector("split_brain", "critical"),
  pool_usage: poolUsage,
} satisfies Record<string, IncidentDetector>;

export type IncidentKind = keyof typeof INCIDENT_DETECTORS;
export const INCIDENT_KINDS = Object.keys(INCIDENT_DETECTORS) as IncidentKind[];

/** The cluster's incidents now, in a stable order (by key). */
export function detectIncidents(facts: AlertFacts): AlertIncident[] {
  const all = Object.values(INCIDENT_DETECTORS).flatMap((detect) => detect(facts));
  const byKey = new Map(all.map((i) => [i.key, i]));
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * What changed between the incidents the console has open and those it sees now: the ones to open
 * (a key it has no open incident for) and the open ones to resolve (a key it no longer sees).
 */
export function incidentChanges<T extends { key: string }>(
  open: readonly T[],
  current: readonly AlertIncident[],
): { opened: AlertIncident[]; resolved: T[] } {
  const openKeys = new Set(open.map((i) => i.key));
  const currentKeys = new Set(current.map((i) => i.key));
  return {
    opened: current.filter((i) => !openKeys.has(i.key)),
    resolved: open.filter((i) => !currentKeys.has(i.key)),
  };
}
