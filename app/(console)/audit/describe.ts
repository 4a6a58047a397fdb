import { type EventFieldChange, eventFieldDiff } from "@/core/audit/field-diff";
import { currentActionName } from "@/core/audit/action-names";
import { ruleName } from "@/core/policy/rule-name";
import { describeHaIncident, HA_INCIDENT_KINDS, type HaIncidentKind } from "@/core/health/ha-incidents";
import { capitalize, fieldLabel } from "@/core/policy/wording";

/**
 * One line per audit event for the timeline: what happened to what, in words, with the first
 * changed fields of an edit. Works on whatever before/after an event holds: an event written by
 * another version of the console, or altered by hand, still reads as something.
 */

export interface DescribableEvent {
  action: string;
  actorType: string;
  targetType: string;
  targetId: string;
  before: unknown;
  after: unknown;
  /** the target's current name, when the server knows it */
  targetName?: string | null;
}

const VERBS: Record<string, string> = {
  create: "Created",
  update: "Changed",
  delete: "Deleted",
};

const KIND_WORDS: Record<string, string> = {
  isp: "ISP",
  pool: "pool",
  zone: "zone",
  rule: "rule",
  virtual_service: "virtual service",
  cluster: "cluster",
  gateway: "gateway",
  user: "user",
  alert_channel: "alert channel",
  alert_incident: "alert incident",
};

function obj(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Short text for a value in a one-line summary. */
export function brief(v: unknown, max = 40): string {
  const text = v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** How the thing an event acted on is named: its name, a rule's number and comment, or its id. */
export function targetName(e: DescribableEvent): string {
  const a = obj(e.after);
  const b = obj(e.before);
  const kind = KIND_WORDS[e.targetType] ?? e.targetType;
  if (e.targetType === "rule") {
    // events keep no place in the order (it changes as rules come and go): the rule's label, if any
    const comment = str(a.comment) ?? str(b.comment);
    if (comment !== undefined) return `rule ${ruleName(null, { comment })}`;
    if (a.seq !== undefined || b.seq !== undefined) return "a rule";
  }
  if (e.targetType === "revision") return `revision ${e.targetId}`;
  const name = str(a.name) ?? str(b.name) ?? str(e.targetName);
  if (name !== undefined) return `${kind} "${name}"`;
  return e.targetId ? `${kind} ${e.targetId}` : kind;
}

interface FieldWords {
  /** the diff's kind of thing (default: the event's target type) */
  kind?: string;
  /** the field's name in words (default: the diff's label) */
  label?: (change: EventFieldChange) => string;
  /** fields left out of the summary */
  skip?: (path: string) => boolean;
  /** a value in words */
  value?: (v: unknown, max: number) => string;
}

/**
 * The cluster's settings by their form labels ("LAN virtual address"), not their paths; the
 * settings' lists are leaves of the diff, so every part is a field name.
 */
const clusterFieldLabel = (c: EventFieldChange) =>
  c.path.startsWith("settings.") ? fieldLabel("settings", c.path.split(".").slice(1)) : c.label;

function changedFields(e: DescribableEvent, max: number, words: FieldWords = {}): string {
  const label = words.label ?? (e.targetType === "cluster" ? clusterFieldLabel : (c: EventFieldChange) => c.label);
  const value = words.value ?? brief;
  const changes = eventFieldDiff(words.kind ?? e.targetType, e.before, e.after).filter(
    (c) => c.change !== "same" && !words.skip?.(c.path),
  );
  if (changes.length === 0) return "no field changed";
  const shown = changes
    .slice(0, max)
    .map((c) =>
      c.change === "added"
        ? `${label(c)} set to ${value(c.after, 40)}`
        : c.change === "removed"
          ? `${label(c)} removed`
          : `${label(c)} ${value(c.before, 24)} → ${value(c.after, 24)}`,
    );
  const more = changes.length - shown.length;
  return `${shown.join("; ")}${more > 0 ? ` and ${more} more` : ""}`;
}

/** A gateway's settings in the words of the gateway's form: an empty value takes the ISP's or the default. */
const GATEWAY_SETTINGS_WORDS: FieldWords = {
  kind: "gateway",
  label: (c) => fieldLabel("settings", ["gateways", 0, ...c.path.split(".")]),
  skip: (path) => path === "gatewayId",
  value: (v, max) => (v === null ? "(not set)" : brief(v, max)),
};

/** An incident as recorded (kind, group, the gateways' ids and names), or null when it does not read as one. */
function recordedIncident(v: Record<string, unknown>) {
  const kind = HA_INCIDENT_KINDS.find((k) => k === v.kind) as HaIncidentKind | undefined;
  const group = str(v.group);
  if (kind === undefined || group === undefined) return null;
  const ids = Array.isArray(v.gatewayIds) ? v.gatewayIds.map(String) : [];
  const names = Array.isArray(v.gateways) ? v.gateways.map(String) : ids;
  return {
    incident: { key: `${kind}:${group}`, kind, group, gatewayIds: ids },
    nameOf: (id: string) => names[ids.indexOf(id)] ?? id,
    names,
  };
}

const listText = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);

export function describeEvent(e: DescribableEvent): string {
  const a = obj(e.after);
  const b = obj(e.before);
  const [domain, verb] = e.action.split(".", 2) as [string, string | undefined];
  // old rows keep a renamed action's old name (the chain hashes it): label them by the current one
  switch (currentActionName(e.action)) {
    case "cluster.publish": {
      const changes = num(obj(a.changes).total);
      return `Published revision ${num(a.revision) ?? e.targetId}${str(a.message) ? `: “${a.message}”` : ""}${
        changes !== undefined ? ` (${changes} change${changes === 1 ? "" : "s"})` : ""
      }`;
    }
    case "cluster.revert":
      return `Reverted to revision ${num(a.revertedFrom) ?? "?"}, published as revision ${num(a.revision) ?? e.targetId}${
        str(a.message) ? `: “${a.message}”` : ""
      }`;
    case "cluster.rule_order": {
      const mode = a.ruleOrder === "list" ? "list" : "specificity";
      const moved = num(a.rulesMoved);
      return `Rules now apply ${mode === "list" ? "in the order listed" : "most specific first"}${
        moved === undefined ? "" : ` (${moved} rule${moved === 1 ? "" : "s"} changed place)`
      }`;
    }
    case "draft.discard": {
      const n = num(obj(b.changes).total);
      return `Discarded ${n === undefined ? "the" : n} draft change${n === 1 ? "" : "s"}`;
    }
    case "gateway.apply":
      return a.ok === false
        ? `Failed to apply revision ${num(a.revision) ?? "?"}: ${brief(a.error, 80)}`
        : `Applied revision ${num(a.revision) ?? "?"}${num(a.failoverEpoch) ? ` (failover state ${a.failoverEpoch})` : ""}`;
    case "gateway.ip_rule_conflicts": {
      const list = Array.isArray(a.conflicts) ? (a.conflicts as Array<{ priority?: unknown; rule?: unknown }>) : [];
      return list.length === 0
        ? "No operator ip rule overrides Gatehouse's redirects and failovers any more"
        : `Alert: ${list.length} operator ip rule${list.length === 1 ? "" : "s"} before Gatehouse's can override its redirects and failovers (${brief(
            list.map((r) => `${num(r.priority) ?? "?"}: ${str(r.rule) ?? ""}`).join("; "),
            120,
          )})`;
    }
    case "gateway.enroll":
      return `Enrolled ${targetName(e)}`;
    case "gateway.ssh_enroll_start":
      return `Started enrolling ${str(a.name) ?? "a gateway"} over SSH${str(a.host) ? ` at ${a.host}` : ""}`;
    case "gateway.ssh_enroll":
      return a.outcome === "succeeded"
        ? `Enrolled ${str(a.name) ?? targetName(e)} over SSH`
        : `Failed to enroll ${str(a.name) ?? "a gateway"} over SSH${str(a.failedStep) ? ` (step ${a.failedStep})` : ""}`;
    case "gateway.rotate_token":
      return `Issued a new enrollment token for ${targetName(e)}${a.agentTokenRevoked ? ", revoking the one in use" : ""}`;
    case "gateway.revoke":
      return `Revoked the credentials of ${targetName(e)}`;
    case "gateway.vrrp_transition": {
      const commit = num(a.commitMs);
      return `${capitalize(targetName(e))}: VRRP group "${str(a.group) ?? "?"}" went from ${str(a.from) ?? "?"} to ${
        str(a.to) ?? "?"
      }${str(a.at) ? ` at ${a.at}` : ""}${commit === undefined ? "" : `, synced connections committed in ${commit} ms`}${
        str(a.error) ? `; failed: ${brief(a.error, 80)}` : ""
      }`;
    }
    case "alert.incident_open":
      return `Alert opened: ${str(a.subject) ?? str(a.key) ?? "an incident"}`;
    case "alert.incident_resolved":
      return `Alert resolved: ${str(a.subject) ?? str(a.key) ?? "an incident"}`;
    case "alert.sent":
    case "alert.failed": {
      const what = `${a.phase === "resolved" ? "resolution" : "alert"} "${brief(a.subject, 80)}" through channel "${str(a.channel) ?? "?"}"`;
      return currentActionName(e.action) === "alert.sent"
        ? `Sent the ${what}`
        : `Gave up sending the ${what} after ${num(a.attempts) ?? "?"} attempts: ${brief(a.error, 120)}`;
    }
    case "alert.test_sent":
      return `Sent a test message through alert channel "${str(a.channel) ?? "?"}"`;
    case "alert.test_failed":
      return `Test message through alert channel "${str(a.channel) ?? "?"}" failed: ${brief(a.error, 120)}`;
    case "cluster.ha_incident": {
      const r = recordedIncident(a);
      return r ? `Incident: ${describeHaIncident(r.incident, r.nameOf)}` : "High-availability incident";
    }
    case "cluster.ha_incident_resolved": {
      const r = recordedIncident(a) ?? recordedIncident(b);
      if (r === null) return "High-availability incident resolved";
      const what =
        r.incident.kind === "split_brain"
          ? `split brain in VRRP group "${r.incident.group}" (${r.names.join(", ")} were all master)`
          : `no healthy backup for VRRP group "${r.incident.group}"`;
      return `Resolved: ${what}`;
    }
    case "pool.usage_incident":
      return str(a.text) ?? "Port usage incident";
    case "pool.usage_incident_resolved":
      return str(a.text) ?? "Port usage incident resolved";
    case "gateway.drain":
    case "gateway.return_to_service": {
      const effect = listText(a.effect);
      const head =
        currentActionName(e.action) === "gateway.drain"
          ? `Drained ${targetName(e)}`
          : `Returned ${targetName(e)} to service`;
      return effect.length === 0 ? head : `${head}: ${brief(effect.join(" "), 240)}`;
    }
    case "gateway.settings_update":
      return `Changed the links and high availability of ${targetName(e)}: ${changedFields(e, 3, GATEWAY_SETTINGS_WORDS)}`;
    case "auth.login":
      return "Signed in";
    case "auth.logout":
      return "Signed out";
    case "auth.login_failed":
      return `Sign-in refused${str(a.reason) ? ` (${a.reason})` : ""}`;
    case "audit.retention":
      return a.keepDays === null
        ? "Set the audit log to keep every event"
        : `Set the audit log to keep ${num(a.keepDays) ?? "?"} days`;
    case "audit.prune":
      return `Pruned ${num(a.deleted) ?? "?"} old audit events (through #${num(a.anchorSeq) ?? "?"})`;
    case "audit.export":
      return `Exported the audit log as ${str(a.format)?.toUpperCase() ?? "a file"}`;
  }
  if (verb === "failover" || verb === "failback") {
    const how = e.actorType === "user" ? "" : " automatically";
    const backup = str(a.backupName) ?? str(a.backupIspName) ?? str(a.backup) ?? str(a.backupIspId);
    return `${verb === "failover" ? "Failed over" : "Failed back"} ${targetName(e)}${how}${
      verb === "failover" && backup ? ` to ${backup}` : ""
    }`;
  }
  if (verb !== undefined && VERBS[verb] !== undefined && (KIND_WORDS[domain] !== undefined || e.targetType !== "")) {
    const head = `${VERBS[verb]} ${targetName(e)}`;
    return verb === "update" ? `${head}: ${changedFields(e, 2)}` : head;
  }
  return e.targetType ? `${e.action} on ${targetName(e)}` : e.action;
}
