import { z } from "zod";
import { zVirtualServiceStatus } from "./virtual-service-status";

/**
 * The agent protocol (console <-> agent), version 1, mounted at /api/agent/v1. Both sides import
 * these schemas: the console validates what agents send with them, the agent what it sends.
 *
 *   POST enroll              Authorization: Bearer <enrollment token>  body EnrollRequest -> EnrollResponse
 *   GET  desired?have=R.E    Authorization: Bearer <agent token>      -> 200 DesiredResponse | 204 (nothing new)
 *   POST status              Authorization: Bearer <agent token>      body StatusReport -> 200 StatusAck
 *
 * Errors are `{ error: string, issues?: {path, message}[] }` with 400 (bad input), 401 (token
 * unknown, used, expired or revoked), 413 (body too large) or 415 (not JSON).
 *
 * Credentials: an admin adds a gateway and gets a one-time enrollment token (ghe_, valid 24 h);
 * `enroll` trades it for the gateway's agent token (gha_). The console stores only sha256 hashes.
 * Rotating issues a new enrollment token, not a new agent token: the operator runs `enroll` again
 * on the gateway, the running agent picks the new token up from its state file, and the old
 * agent token stops working at that moment, so a rotation never cuts a gateway off. For a token
 * that may have leaked, rotation can revoke the current agent token at once; revocation alone
 * invalidates every credential of the gateway.
 */
export const AGENT_API_PREFIX = "/api/agent/v1";

/** How often a running agent reports, and how long the console waits before calling it offline. */
export const HEARTBEAT_SECONDS = 15;
export const OFFLINE_AFTER_SECONDS = 3 * HEARTBEAT_SECONDS;

/** The console answers a long poll after at most this long; the agent gives up a little later. */
export const LONG_POLL_SECONDS = 25;

export const MAX_BODY_BYTES = 256 * 1024;

/** Token prefixes say what a token is when it turns up in a log or a shell history. */
export const ENROLL_TOKEN_PREFIX = "ghe_";
export const AGENT_TOKEN_PREFIX = "gha_";
/** prefix + 43 characters of base64url (32 random bytes) */
export const TOKEN_RE = /^gh[ea]_[A-Za-z0-9_-]{43}$/;

/** What an agent holds: "<revision>.<failoverEpoch>", or "none" before its first spec. */
export interface SpecKey {
  revision: number;
  failoverEpoch: number;
}

const KEY_RE = /^(\d{1,9})\.(\d{1,9})$/;

export function formatSpecKey(key: SpecKey | null): string {
  return key === null ? "none" : `${key.revision}.${key.failoverEpoch}`;
}

/** undefined: not a key at all; null: the agent has nothing yet. */
export function parseSpecKey(text: string | null): SpecKey | null | undefined {
  if (text === null || text === "" || text === "none") return null;
  const m = KEY_RE.exec(text);
  if (!m) return undefined;
  return { revision: Number(m[1]), failoverEpoch: Number(m[2]) };
}

export const sameSpecKey = (a: SpecKey | null, b: SpecKey | null) =>
  a !== null && b !== null && a.revision === b.revision && a.failoverEpoch === b.failoverEpoch;

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export const zInterfaceFact = z.object({
  name: text(64),
  state: text(32).default(""),
  mac: text(64).default(""),
  mtu: z.number().int().min(0).max(1_000_000).nullable().default(null),
  /** "address/prefix" as `ip -j addr` reports them */
  addresses: z.array(text(64)).max(256).default([]),
});
export type InterfaceFact = z.infer<typeof zInterfaceFact>;

export const zFacts = z.object({
  hostname: text(255).default(""),
  kernel: text(128).default(""),
  nftVersion: text(128).default(""),
  interfaces: z.array(zInterfaceFact).max(1024).default([]),
});
export type Facts = z.infer<typeof zFacts>;

export const zAgentVersion = text(64).regex(/^[A-Za-z0-9][A-Za-z0-9.+_-]*$/, "must be a version string");

export const zEnrollRequest = z.object({
  agentVersion: zAgentVersion,
  facts: zFacts.optional(),
});
export type EnrollRequest = z.infer<typeof zEnrollRequest>;

export const zEnrollResponse = z.object({
  gatewayId: z.string(),
  gatewayName: z.string(),
  clusterId: z.string(),
  clusterName: z.string(),
  /** the long-lived agent token; the console keeps only its hash */
  agentToken: z.string().regex(TOKEN_RE),
});
export type EnrollResponse = z.infer<typeof zEnrollResponse>;

const zRevision = z.number().int().min(0).max(999_999_999);

/** Durations of the phases of one apply, in milliseconds (render, check, apply, routes ...). */
export const zDurations = z
  .record(text(32).regex(/^[A-Za-z][A-Za-z0-9_]*$/, "must be a phase name"), z.number().min(0).max(3_600_000))
  .refine((d) => Object.keys(d).length <= 32, "at most 32 phases");

export const zApplyResult = z.object({
  revision: zRevision,
  failoverEpoch: zRevision,
  ok: z.boolean(),
  /** nft's own message on failure, empty when ok */
  error: text(4000).default(""),
  /** when the agent applied (its clock): identifies the attempt, so a repeated report is not a new event */
  at: z.iso.datetime({ offset: true }),
  durationsMs: zDurations.default({}),
});
export type ApplyResult = z.infer<typeof zApplyResult>;

/**
 * Link health per ISP as the agent measures it. Its shape belongs to the health monitor; the
 * console stores it as given, bounded in size.
 */
export const MAX_HEALTH_BYTES = 64 * 1024;
export const zHealth = z
  .record(text(64), z.unknown())
  .refine((h) => JSON.stringify(h).length <= MAX_HEALTH_BYTES, `must be at most ${MAX_HEALTH_BYTES} bytes as JSON`);

/**
 * An operator ip rule that comes before Gatehouse's reroute rules and may match the same traffic:
 * it can override a redirect or a failover (agent/apply/rule-conflicts.ts).
 */
export const zIpRuleConflict = z.object({
  priority: z.number().int().min(0).max(0xffffffff),
  /** the rule as `ip rule show` prints it */
  rule: text(400),
  /** the priority of the first Gatehouse rule it comes before */
  before: z.number().int().min(0).max(0xffffffff),
});
export type IpRuleConflict = z.infer<typeof zIpRuleConflict>;

export const zIpRuleCheck = z.object({
  /** when the agent last read the ip rules (its clock) */
  checkedAt: z.iso.datetime({ offset: true }),
  conflicts: z.array(zIpRuleConflict).max(100),
  /** why the rules could not be read, empty when they were */
  error: text(1000).default(""),
});
export type IpRuleCheck = z.infer<typeof zIpRuleCheck>;

export const VRRP_STATES = ["master", "backup", "fault", "stopped", "unknown"] as const;
export const zVrrpState = z.enum(VRRP_STATES);
export type VrrpState = z.infer<typeof zVrrpState>;

/** One change of a sync group's VRRP state, as keepalived announced it to the agent. */
export const zVrrpTransition = z.object({
  group: text(32),
  from: zVrrpState,
  to: zVrrpState,
  /** the agent's clock */
  at: z.iso.datetime({ offset: true }),
  /** on promotion to master: how long committing the synced connections took; null: no commit */
  commitMs: z.number().min(0).max(600_000).nullable(),
  /** why the commit (or the notify handling) failed; empty when it did not */
  error: text(1000).default(""),
});
export type VrrpTransition = z.infer<typeof zVrrpTransition>;

export const zHaStatus = z.object({
  checkedAt: z.iso.datetime({ offset: true }),
  groups: z
    .array(
      z.object({
        name: text(32),
        state: zVrrpState,
        /** when the group entered its state (the agent's clock); null: not known */
        since: z.iso.datetime({ offset: true }).nullable(),
        /** the priority keepalived runs with (after link tracking); null: not known */
        effectivePriority: z.number().int().min(0).max(255).nullable(),
      }),
    )
    .max(64),
  keepalived: z.enum(["running", "stopped", "failed"]),
  conntrackd: z.enum(["running", "stopped", "failed", "disabled"]),
  /** transitions since the agent started, newest last, at most the last 50: the console records new ones */
  transitions: z.array(zVrrpTransition).max(50),
  /** what is wrong with keepalived or conntrackd, empty when nothing */
  error: text(1000).default(""),
});
export type HaStatus = z.infer<typeof zHaStatus>;

/**
 * Rule counters (docs/semantics.md, "Counters"): what each rule's counter moved since the last
 * report the console acknowledged. The agent reads the counters every RULE_COUNTER_READ_MS and
 * keeps the sum until a report carrying it is accepted, so a lost report loses nothing; rules
 * whose counter did not move are left out. A report carries at most MAX_RULE_COUNTERS_PER_REPORT
 * rules: the rest waits for the next one.
 */
export const RULE_COUNTER_READ_MS = 5_000;
/** However slow a read of the rules' counters, the agent reads them at least this often. */
export const MAX_RULE_COUNTER_READ_MS = 60_000;
/**
 * The agent deletes a rule's counters from the kernel's set (render/nft.ts, "rule_hits") once its
 * readings have not moved for this long: five times the longest pause between two reads. The
 * datapath adds them again with the rule's next packet.
 */
export const RULE_HIT_IDLE_MS = 5 * MAX_RULE_COUNTER_READ_MS;
export const MAX_RULE_COUNTERS_PER_REPORT = 1_000;
export const zRuleCounterDelta = z
  .object({
    ruleId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be a rule id"),
    /** new connections the rule decided since the last acknowledged report */
    connections: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** packets and bytes of the rule's connections, both ways, since then (0 from agents without them) */
    packets: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    /** when the agent's read last saw a new connection (its clock); null: only traffic moved */
    lastHitAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .refine((d) => d.connections + d.packets + d.bytes > 0, {
    message: "an empty delta: nothing moved",
    path: ["connections"],
  })
  .refine((d) => d.connections === 0 || d.lastHitAt !== null, {
    message: "new connections need the time of the last one",
    path: ["lastHitAt"],
  });
export type RuleCounterDelta = z.infer<typeof zRuleCounterDelta>;
export const zRuleCounterReport = z
  .array(zRuleCounterDelta)
  .max(MAX_RULE_COUNTERS_PER_REPORT)
  .refine((rows) => new Set(rows.map((r) => r.ruleId)).size === rows.length, "each rule at most once");

export const zStatusReport = z.object({
  agentVersion: zAgentVersion,
  /** the spec the datapath enforces right now (the last one applied successfully) */
  running: z.object({ revision: zRevision, failoverEpoch: zRevision }).nullable(),
  /** the last apply attempt, successful or not */
  lastApply: zApplyResult.nullable(),
  facts: zFacts,
  health: zHealth.optional(),
  /** operator ip rules that would override Gatehouse's (checked before and after every apply, and every few seconds) */
  ipRules: zIpRuleCheck.optional(),
  /** VRRP and connection sync, when the spec has high availability */
  ha: zHaStatus.optional(),
  /** real server health and traffic, when the spec has virtual services */
  virtualServices: z.array(zVirtualServiceStatus).max(1024).optional(),
  /** rule counter deltas since the last acknowledged report */
  ruleCounters: zRuleCounterReport.optional(),
});
export type StatusReport = z.infer<typeof zStatusReport>;

export const zStatusAck = z.object({
  ok: z.literal(true),
  /** the cluster's current published revision and epoch, so the agent can tell it is behind */
  published: z.object({ revision: z.number(), failoverEpoch: z.number() }),
  heartbeatSeconds: z.number(),
});
export type StatusAck = z.infer<typeof zStatusAck>;

export const zErrorBody = z.object({
  error: z.string(),
  issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
});

/** The spec stays opaque here: the agent checks it with zGatewaySpec itself, to name an unknown specVersion. */
export const zDesiredResponse = z.object({ spec: z.unknown() });
export type DesiredResponse = z.infer<typeof zDesiredResponse>;

/** True for an absolute http(s) URL; never throws, whatever the text (zod runs refinements after failed checks). */
function isHttpUrl(u: string): boolean {
  try {
    return /^https?:$/.test(new URL(u).protocol);
  } catch {
    return false;
  }
}

/** The console's base URL as an agent stores it: http(s) only, without a trailing slash. */
export const zConsoleUrl = z
  .string()
  .trim()
  .refine(isHttpUrl, "must be an http:// or https:// URL, e.g. https://console.example:3000")
  .transform((u) => u.replace(/\/+$/, ""));
