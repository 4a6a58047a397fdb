import { setTimeout as delay } from "node:timers/promises";
import { APPLY_RETRY_BACKOFF, type BackoffPolicy, backoffDelay, CONSOLE_BACKOFF } from "../client/backoff";
import type { ConsoleClient } from "../client/console";
import { ConsoleError } from "../client/console";
import {
  type ApplyResult,
  type Facts,
  HEARTBEAT_SECONDS,
  MAX_RULE_COUNTERS_PER_REPORT,
  type SpecKey,
  type StatusReport,
} from "../../core/protocol/agent-api";
import type { RuleCounterTally } from "../health/rule-counters";
import type { Logger } from "../log";
import type { GatewaySpec } from "../../core/spec/schema";
import type { LocalStatus, StateStore } from "../state/store";
import { checkSpec, keyOf } from "./spec-check";

/**
 * The agent's main loop. It long-polls the console for the desired spec, applies each new one,
 * and reports. It is fail-static: when the console cannot be reached it changes nothing on the
 * gateway and retries with backoff; it re-applies the last good spec from disk at start, so a
 * restart or reboot does not leave the gateway without its rules; a failed apply leaves the
 * previous ruleset in place (nft loads a file atomically) and is retried on its own schedule
 * until it works or a newer spec arrives.
 */

export interface ApplyOutcome {
  ok: boolean;
  /** the spec's ruleset is in the kernel (also when only routing failed afterwards) */
  loaded: boolean;
  /** nft's own message when not ok */
  error: string;
  durationsMs: Record<string, number>;
}

export interface LoopDeps {
  console: Pick<ConsoleClient, "desired" | "status">;
  /** must not throw: failures come back as { ok: false } */
  apply(spec: GatewaySpec): Promise<ApplyOutcome>;
  store: Pick<StateStore, "readLastGood" | "writeLastGood" | "writeStatus">;
  /** the rules' counter deltas waiting for the console (health/rule-counters.ts) */
  ruleCounters?: Pick<RuleCounterTally, "take" | "acknowledge">;
  facts(): Promise<Facts>;
  log: Logger;
  agentVersion: string;
  heartbeatMs?: number;
  /** every apply's record, as it is made (metrics) */
  onApplied?: (result: ApplyResult) => void;
  /** defaults: CONSOLE_BACKOFF and APPLY_RETRY_BACKOFF */
  backoff?: { console: BackoffPolicy; applyRetry: BackoffPolicy };
  now?: () => Date;
  random?: () => number;
}

const sleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }).catch(() => {});

export class AgentLoop {
  private running: SpecKey | null = null;
  /** the last spec received, applied or not: what the long poll says we have */
  private have: SpecKey | null = null;
  private lastApply: ApplyResult | null = null;
  private retry: { spec: GatewaySpec; at: number; attempt: number } | null = null;
  private lastContactAt: string | null = null;
  private consoleError = "";
  private health: StatusReport["health"];
  private ipRules: StatusReport["ipRules"];
  private virtualServices: StatusReport["virtualServices"];
  private ha: StatusReport["ha"];
  private stopSignal: AbortSignal | undefined;
  private reportRunning = false;
  private reportQueued = false;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly backoff: { console: BackoffPolicy; applyRetry: BackoffPolicy };

  constructor(private readonly deps: LoopDeps) {
    this.now = deps.now ?? (() => new Date());
    this.random = deps.random ?? Math.random;
    this.backoff = deps.backoff ?? { console: CONSOLE_BACKOFF, applyRetry: APPLY_RETRY_BACKOFF };
  }

  /** What the agent runs now, for tests and `status`. */
  snapshot(): LocalStatus {
    return {
      running: this.running,
      lastApply: this.lastApply,
      lastContactAt: this.lastContactAt,
      consoleError: this.consoleError,
    };
  }

  /** Link health from the monitor, sent with the next report. */
  setHealth(health: StatusReport["health"]): void {
    this.health = health;
  }

  /** The ip rule check, sent with the next report; a changed list of conflicts is reported at once. */
  setIpRules(check: NonNullable<StatusReport["ipRules"]>): void {
    const changed = JSON.stringify(this.ipRules?.conflicts) !== JSON.stringify(check.conflicts);
    this.ipRules = check;
    if (changed && this.stopSignal !== undefined) void this.report();
  }

  /** Real server health from the virtual services' checker: a change is reported at once. */
  setVirtualServices(status: NonNullable<StatusReport["virtualServices"]>): void {
    const changed = JSON.stringify(this.virtualServices) !== JSON.stringify(status);
    this.virtualServices = status;
    if (changed && this.stopSignal !== undefined) void this.report();
  }

  /** VRRP and connection sync from the HA supervisor: a change of state is reported at once. */
  setHa(status: StatusReport["ha"]): void {
    const key = (s: StatusReport["ha"]) => JSON.stringify(s === undefined ? null : { ...s, checkedAt: "" });
    const changed = key(this.ha) !== key(status);
    this.ha = status;
    if (changed && this.stopSignal !== undefined) void this.report();
  }

  async run(signal: AbortSignal): Promise<void> {
    this.stopSignal = signal;
    await this.reapplyLastGood();
    await Promise.all([this.pollLoop(signal), this.heartbeatLoop(signal)]);
  }

  /** Puts the last good rules back at start: after a reboot the table is empty until this runs. */
  async reapplyLastGood(): Promise<void> {
    const { log } = this.deps;
    let saved: { spec: unknown } | undefined;
    try {
      saved = this.deps.store.readLastGood();
    } catch (e) {
      log.error({ err: e }, "cannot read the last good spec; waiting for the console");
      return;
    }
    if (saved === undefined) {
      log.info("no spec applied yet; waiting for the console");
      return;
    }
    const check = checkSpec(saved.spec);
    if (!check.ok) {
      log.error({ error: check.error }, "the saved spec cannot be used; waiting for the console");
      return;
    }
    log.info(
      { revision: check.spec.revision, failoverEpoch: check.spec.failoverEpoch },
      "re-applying the last good spec",
    );
    await this.applyAndRecord(check.spec);
  }

  private async pollLoop(signal: AbortSignal): Promise<void> {
    const { log } = this.deps;
    let failures = 0;
    while (!signal.aborted) {
      const retry = this.retry;
      if (retry !== null && retry.at <= Date.now()) {
        log.info({ revision: retry.spec.revision, attempt: retry.attempt }, "retrying the failed apply");
        await this.applyAndRecord(retry.spec, retry.attempt);
        continue;
      }
      // a due retry ends the poll early; it is not an error
      const retryTimer = retry === null ? null : AbortSignal.timeout(Math.max(1, retry.at - Date.now()));
      const pollSignal = retryTimer === null ? signal : AbortSignal.any([signal, retryTimer]);
      try {
        const answer = await this.deps.console.desired(this.have, pollSignal);
        this.contact();
        failures = 0;
        if (answer.kind === "spec") await this.receive(answer.spec);
      } catch (e) {
        if (signal.aborted) break;
        if (retryTimer?.aborted) continue;
        const wait = backoffDelay(failures++, this.backoff.console, this.random);
        this.consoleError = e instanceof Error ? e.message : String(e);
        const kind = e instanceof ConsoleError ? e.kind : "internal";
        log.warn(
          { err: this.consoleError, kind, retryInMs: wait, running: this.running },
          kind === "unauthorized"
            ? "the console refused the agent token; keeping the applied rules (re-enroll if it was revoked)"
            : "cannot get the desired state; keeping the applied rules",
        );
        this.saveStatus();
        await sleep(retry === null ? wait : Math.min(wait, Math.max(0, retry.at - Date.now())), signal);
      }
    }
  }

  private async heartbeatLoop(signal: AbortSignal): Promise<void> {
    const every = this.deps.heartbeatMs ?? HEARTBEAT_SECONDS * 1000;
    await this.report();
    while (!signal.aborted) {
      await sleep(every, signal);
      if (!signal.aborted) await this.report();
    }
  }

  private contact(): void {
    this.lastContactAt = this.now().toISOString();
    if (this.consoleError !== "") {
      this.deps.log.info("the console is reachable again");
      this.consoleError = "";
      this.saveStatus();
    }
  }

  /** Handles a spec from the console. Throws only when it cannot even tell which spec it was. */
  async receive(raw: unknown): Promise<void> {
    const check = checkSpec(raw);
    if (!check.ok) {
      this.deps.log.error({ error: check.error }, "refused the spec from the console");
      if (check.key === null) throw new ConsoleError("protocol", check.error);
      this.have = check.key;
      this.lastApply = { ...check.key, ok: false, error: check.error, at: this.now().toISOString(), durationsMs: {} };
      this.saveStatus();
      await this.report();
      return;
    }
    this.have = keyOf(check.spec);
    await this.applyAndRecord(check.spec);
  }

  private async applyAndRecord(spec: GatewaySpec, attempt = 0): Promise<void> {
    const { log } = this.deps;
    const key = keyOf(spec);
    const outcome = await this.deps.apply(spec).catch(
      (e: unknown): ApplyOutcome => ({
        ok: false,
        loaded: false,
        error: e instanceof Error ? e.message : String(e),
        durationsMs: {},
      }),
    );
    this.lastApply = {
      ...key,
      ok: outcome.ok,
      error: outcome.ok ? "" : outcome.error.slice(0, 4000),
      at: this.now().toISOString(),
      durationsMs: outcome.durationsMs,
    };
    this.deps.onApplied?.(this.lastApply);
    if (outcome.loaded) {
      this.running = key;
      try {
        this.deps.store.writeLastGood(spec, this.now());
      } catch (e) {
        log.error({ err: e }, "applied, but cannot save the spec for the next start");
      }
    }
    if (outcome.ok) {
      this.retry = null;
      log.info({ ...key, durationsMs: outcome.durationsMs }, "applied");
    } else {
      const wait = backoffDelay(attempt, this.backoff.applyRetry, this.random);
      this.retry = { spec, at: Date.now() + wait, attempt: attempt + 1 };
      log.error(
        { ...key, error: outcome.error, retryInMs: wait, running: this.running },
        "apply failed; the previous rules stay in place",
      );
    }
    this.saveStatus();
    await this.report();
  }

  private saveStatus(): void {
    try {
      this.deps.store.writeStatus(this.snapshot());
    } catch (e) {
      this.deps.log.warn({ err: e }, "cannot write the status file");
    }
  }

  /** What the next report says of high availability and virtual services (metrics). */
  reported(): Pick<StatusReport, "ha" | "virtualServices"> {
    return { ha: this.ha, virtualServices: this.virtualServices };
  }

  /** Sends a report now; a report asked for while one is on its way is sent right after it. */
  async report(): Promise<void> {
    if (this.reportRunning) {
      this.reportQueued = true;
      return;
    }
    this.reportRunning = true;
    try {
      do {
        this.reportQueued = false;
        await this.postStatus();
      } while (this.reportQueued);
    } finally {
      this.reportRunning = false;
    }
  }

  private async postStatus(): Promise<void> {
    const { log } = this.deps;
    try {
      const facts = await this.deps.facts();
      const ruleCounters = this.deps.ruleCounters?.take(MAX_RULE_COUNTERS_PER_REPORT) ?? [];
      await this.deps.console.status(
        {
          agentVersion: this.deps.agentVersion,
          running: this.running,
          lastApply: this.lastApply,
          facts,
          ...(this.health === undefined ? {} : { health: this.health }),
          ...(this.ipRules === undefined ? {} : { ipRules: this.ipRules }),
          ...(this.ha === undefined ? {} : { ha: { ...this.ha, checkedAt: this.now().toISOString() } }),
          ...(this.virtualServices === undefined || this.virtualServices.length === 0
            ? {}
            : { virtualServices: this.virtualServices }),
          ...(ruleCounters.length === 0 ? {} : { ruleCounters }),
        },
        this.stopSignal,
      );
      this.deps.ruleCounters?.acknowledge(ruleCounters);
      this.contact();
    } catch (e) {
      // the poll loop reports an unreachable console; one line per failed heartbeat is noise
      log.debug({ err: e instanceof Error ? e.message : String(e) }, "status report failed");
    }
  }
}
