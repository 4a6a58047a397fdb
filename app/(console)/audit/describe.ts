import { eventFieldDiff } from "@/core/audit/field-diff";
import { currentActionName } from "@/core/audit/action-names";

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
    const seq = num(a.seq) ?? num(b.seq);
    const comment = str(a.comment) ?? str(b.comment);
    if (seq !== undefined) return comment ? `rule #${seq} (${comment})` : `rule #${seq}`;
  }
  if (e.targetType === "revision") return `revision ${e.targetId}`;
  const name = str(a.name) ?? str(b.name) ?? str(e.targetName);
  if (name !== undefined) return `${kind} "${name}"`;
  return e.targetId ? `${kind} ${e.targetId}` : kind;
}

function changedFields(e: DescribableEvent, max: number): string {
  const changes = eventFieldDiff(e.targetType, e.before, e.after).filter((c) => c.change !== "same");
  if (changes.length === 0) return "no field changed";
  const shown = changes
    .slice(0, max)
    .map((c) =>
      c.change === "added"
        ? `${c.label} set to ${brief(c.after)}`
        : c.change === "removed"
          ? `${c.label} removed`
          : `${c.label} ${brief(c.before, 24)} → ${brief(c.after, 24)}`,
    );
  const more = changes.length - shown.length;
  return `${shown.join("; ")}${more > 0 ? ` and ${more} more` : ""}`;
}

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
