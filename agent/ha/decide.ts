import type { LinkState } from "../../core/health/link-state";
import type { VrrpState, VrrpTransition } from "../../core/protocol/agent-api";
import type { SpecHa } from "../../core/spec/schema";

/**
 * The high-availability decisions without I/O: what keepalived's notify lines mean, what the
 * link-tracking file must say, which conntrackd commands a state change calls for, and the
 * groups' states and transitions the status report carries. The supervisor (supervisor.ts) feeds
 * it what it reads and does what it answers.
 */

/** One line keepalived writes to its notify fifo: `GROUP "name" MASTER` or `INSTANCE "name" BACKUP 100`. */
export interface NotifyLine {
  kind: "group" | "instance";
  name: string;
  state: VrrpState;
  /** the instance's effective priority, when keepalived gave one */
  priority: number | null;
}

const KEEPALIVED_STATES: Record<string, VrrpState> = {
  MASTER: "master",
  BACKUP: "backup",
  FAULT: "fault",
  STOP: "stopped",
  DELETED: "stopped",
};

export function parseNotifyLine(line: string): NotifyLine | null {
  const m = /^(GROUP|INSTANCE) "([^"]+)" ([A-Z_]+)(?: (\d+))?\s*$/.exec(line.trim());
  if (m === null) return null;
  const state = KEEPALIVED_STATES[m[3] as string];
  if (state === undefined) return null;
  return {
    kind: m[1] === "GROUP" ? "group" : "instance",
    name: m[2] as string,
    state,
    priority: m[4] === undefined ? null : Number(m[4]),
  };
}

/**
 * keepalived puts an instance in FAULT when its tracked value times its weight is below -253.
 * The agent writes the number of its ISP links that are down, each worth -trackLinkWeight. When
 * every link is down it writes enough to reach FAULT: a gateway that cannot reach any ISP gives
 * its groups away even with preempt off (where a lowered priority alone moves nothing, because a
 * backup never takes over from a live master of lower priority).
 */
export const FAULT_THRESHOLD = 254;

export function linkWeightValue(ha: SpecHa, links: ReadonlyMap<string, LinkState>): number {
  if (ha.trackLinkWeight === 0 || links.size === 0) return 0;
  const down = [...links.values()].filter((s) => s === "down").length;
  if (down === links.size) return Math.max(down, Math.ceil(FAULT_THRESHOLD / ha.trackLinkWeight));
  return down;
}

/** The priority keepalived runs a group with after link tracking (keepalived keeps it within 1..254). */
export function effectivePriority(ha: SpecHa, groupPriority: number, weightValue: number): number {
  const lowered = groupPriority - weightValue * ha.trackLinkWeight;
  return Math.min(254, Math.max(1, lowered));
}

/**
 * conntrackd's primary/backup sequence (its primary-backup.sh): a new master commits the
 * connections its peer synced (-c), flushes its caches (-f), resyncs its internal cache from the
 * kernel (-R) and sends a bulk update to the backups (-B); a new backup shortens the kernel's
 * timers so the connections it forwarded as master expire (-t) and asks the master for a full
 * resync (-n); a faulty gateway only shortens its timers. A gateway still master of another group
 * (active/active) leaves its timers alone.
 */
export type ConntrackdStep = "-c" | "-f" | "-R" | "-B" | "-t" | "-n";

export function conntrackdSteps(to: VrrpState, masterElsewhere = false): ConntrackdStep[] {
  if (to === "master") return ["-c", "-f", "-R", "-B"];
  // active/active: a gateway still master of its own group keeps forwarding those connections,
  // and -t would shorten every timer in its kernel table, theirs too
  if (to === "backup") return masterElsewhere ? ["-n"] : ["-t", "-n"];
  if (to === "fault") return masterElsewhere ? [] : ["-t"];
  return [];
}

export interface GroupStatus {
  name: string;
  state: VrrpState;
  since: string | null;
  effectivePriority: number | null;
}

const MAX_TRANSITIONS = 50;

/** The groups' states as keepalived announced them, and the transitions since the agent started. */
export class HaTracker {
  private groups = new Map<string, GroupStatus>();
  private readonly transitions: VrrpTransition[] = [];
  /** instance name -> its group */
  private instanceGroup = new Map<string, string>();

  /** The groups of a (new) spec: known ones keep their state, new ones start unknown, gone ones go. */
  configure(ha: SpecHa, weightValue: number): void {
    const next = new Map<string, GroupStatus>();
    this.instanceGroup = new Map();
    for (const g of ha.groups) {
      const prev = this.groups.get(g.name);
      const priority = ha.drained ? 1 : g.priority;
      next.set(g.name, {
        name: g.name,
        state: prev?.state ?? "unknown",
        since: prev?.since ?? null,
        effectivePriority: effectivePriority(ha, priority, weightValue),
      });
      for (const i of g.instances) this.instanceGroup.set(i.name, g.name);
    }
    this.groups = next;
  }

  setPriorities(ha: SpecHa, weightValue: number): void {
    for (const g of ha.groups) {
      const s = this.groups.get(g.name);
      if (s !== undefined) s.effectivePriority = effectivePriority(ha, ha.drained ? 1 : g.priority, weightValue);
    }
  }

  /**
   * A notify line. Returns the group's transition when its state changed (commitMs and error are
   * filled in by the caller through `finish`), null otherwise. Instance lines only refine the
   * priority: keepalived announces the sync group as one.
   */
  notify(line: NotifyLine, at: Date): VrrpTransition | null {
    if (line.kind === "instance") {
      const g = this.groups.get(this.instanceGroup.get(line.name) ?? "");
      if (g !== undefined && line.priority !== null && line.state !== "stopped") g.effectivePriority = line.priority;
      return null;
    }
    const g = this.groups.get(line.name);
    if (g === undefined || g.state === line.state) return null;
    const t: VrrpTransition = {
      group: g.name,
      from: g.state,
      to: line.state,
      at: at.toISOString(),
      commitMs: null,
      error: "",
    };
    g.state = line.state;
    g.since = t.at;
    this.transitions.push(t);
    if (this.transitions.length > MAX_TRANSITIONS) this.transitions.shift();
    return t;
  }

  /** keepalived is not running: every group is stopped as far as this gateway goes. */
  stopped(at: Date): VrrpTransition[] {
    const out: VrrpTransition[] = [];
    for (const g of this.groups.values()) {
      const t = this.notify({ kind: "group", name: g.name, state: "stopped", priority: null }, at);
      if (t !== null) out.push(t);
    }
    return out;
  }

  /** True when some group is master here. */
  anyMaster(): boolean {
    return [...this.groups.values()].some((g) => g.state === "master");
  }

  groupStatus(): GroupStatus[] {
    return [...this.groups.values()].map((g) => ({ ...g }));
  }

  transitionList(): VrrpTransition[] {
    return this.transitions.map((t) => ({ ...t }));
  }
}
