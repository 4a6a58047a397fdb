import type { Monitor } from "../policy/model";
import type { Round } from "./rounds";

/**
 * The measured state of one uplink, decided from probe rounds alone (no I/O, time is passed in):
 *
 * - down: `downAfter` rounds lost in a row, or the loss over the window reached the loss
 *   threshold. A probe not answered within the latency threshold is a lost probe (fping.ts).
 * - up again only with hysteresis: `upAfter` answered rounds in a row, no lost round for
 *   `holdDownMs`, and the window's loss below the threshold. A link that keeps dropping out is
 *   therefore held down for as long as it flaps, plus the hold-down: one failover and one
 *   failback, not one per flap.
 * - degraded: usable but showing trouble (a round lost just now, or loss or latency past half
 *   their thresholds); it never moves traffic, and it also clears only after `upAfter` good rounds.
 * - unknown: no verdict yet (just started, or the prober is not running).
 * - carrier loss (the interface reports NO-CARRIER, or is gone or down) takes the link down at
 *   once, without waiting for probes. Carrier coming back brings nothing up by itself: the probes
 *   must then pass the same hysteresis as after any outage, counted from the carrier loss.
 */

export type LinkState = "unknown" | "up" | "degraded" | "down";

export type LinkConfig = Pick<
  Monitor,
  "downAfter" | "upAfter" | "holdDownMs" | "lossThresholdPct" | "latencyThresholdMs" | "intervalMs"
>;

/** The window over which loss and latency are measured: about ten seconds of rounds. */
export function windowRoundsFor(intervalMs: number): number {
  return Math.min(100, Math.max(10, Math.round(10_000 / Math.max(1, intervalMs))));
}

export interface LinkStatus {
  state: LinkState;
  /** when the state was entered (ms, the caller's clock) */
  since: number;
  reason: string;
  missStreak: number;
  goodStreak: number;
  lastLossAt: number | null;
  lastGoodAt: number | null;
  /** lost rounds in the window, in percent; null before the first round */
  lossPct: number | null;
  /** mean round-trip time of the answered rounds in the window */
  rttMs: number | null;
  lastRttMs: number | null;
  /** rounds in the window */
  samples: number;
}

export interface Transition {
  from: LinkState;
  to: LinkState;
  at: number;
  reason: string;
  /** when the last answered round came in before this transition: bounds when a failure began */
  lastGoodAt: number | null;
}

const pct = (n: number) => `${Math.round(n)}%`;

export class LinkStateMachine {
  private state: LinkState = "unknown";
  private since: number;
  private reason = "probing has not started";
  private missStreak = 0;
  private goodStreak = 0;
  private lastLossAt: number | null = null;
  private lastGoodAt: number | null = null;
  private lastRttMs: number | null = null;
  private readonly window: Array<number | null> = [];
  /** the interface has no carrier: nothing but the carrier coming back can end "down" */
  private noCarrier = false;
  private readonly windowSize: number;

  constructor(
    private readonly cfg: LinkConfig,
    now: number,
  ) {
    this.since = now;
    this.windowSize = windowRoundsFor(cfg.intervalMs);
  }

  private metrics(): { lossPct: number | null; rttMs: number | null } {
    if (this.window.length === 0) return { lossPct: null, rttMs: null };
    let lost = 0;
    let sum = 0;
    for (const r of this.window) {
      if (r === null) lost++;
      else sum += r;
    }
    const answered = this.window.length - lost;
    return { lossPct: (lost / this.window.length) * 100, rttMs: answered === 0 ? null : sum / answered };
  }

  /** Why the link counts as down now, or null. */
  private downReason(lossPct: number | null): string | null {
    if (this.missStreak >= this.cfg.downAfter) {
      return `${this.missStreak} probe round${this.missStreak === 1 ? "" : "s"} lost in a row (down after ${this.cfg.downAfter}; a probe counts as lost after ${this.cfg.latencyThresholdMs} ms)`;
    }
    if (this.window.length >= this.windowSize && lossPct !== null && lossPct >= this.cfg.lossThresholdPct) {
      return `loss ${pct(lossPct)} over the last ${this.window.length} rounds (threshold ${pct(this.cfg.lossThresholdPct)})`;
    }
    return null;
  }

  private warnReason(lossPct: number | null, rttMs: number | null): string | null {
    if (this.missStreak > 0) return `${this.missStreak} probe round${this.missStreak === 1 ? "" : "s"} lost just now`;
    const enough = this.window.length >= Math.min(this.windowSize, 10);
    if (enough && lossPct !== null && lossPct >= this.cfg.lossThresholdPct / 2 && lossPct > 0) {
      return `loss ${pct(lossPct)} (half the ${pct(this.cfg.lossThresholdPct)} threshold or more)`;
    }
    if (enough && rttMs !== null && rttMs >= this.cfg.latencyThresholdMs / 2) {
      return `latency ${rttMs.toFixed(1)} ms (half the ${this.cfg.latencyThresholdMs} ms threshold or more)`;
    }
    return null;
  }

  private enter(to: LinkState, now: number, reason: string): Transition | null {
    this.reason = reason;
    if (to === this.state) return null;
    const t: Transition = { from: this.state, to, at: now, reason, lastGoodAt: this.lastGoodAt };
    this.state = to;
    this.since = now;
    return t;
  }

  observe(round: Round, now: number): Transition | null {
    this.window.push(round.ok ? (round.rttMs ?? 0) : null);
    if (this.window.length > this.windowSize) this.window.shift();
    if (round.ok) {
      this.goodStreak++;
      this.missStreak = 0;
      // a link only goes down on a lost round, so a down transition still carries the last answer
      this.lastGoodAt = now;
      this.lastRttMs = round.rttMs;
    } else {
      this.missStreak++;
      this.goodStreak = 0;
      this.lastLossAt = now;
    }
    const { lossPct, rttMs } = this.metrics();
    const down = this.downReason(lossPct);
    const warn = this.warnReason(lossPct, rttMs);

    if (down !== null) return this.state === "down" ? this.keep(down) : this.enter("down", now, down);
    if (this.noCarrier) return this.keep(this.reason);

    switch (this.state) {
      case "unknown":
        if (!round.ok) return this.keep(`${this.missStreak} probe round(s) lost, no answer yet`);
        return this.enter(warn === null ? "up" : "degraded", now, warn ?? "answering probes");
      case "down": {
        const quietFor = this.lastLossAt === null ? Number.POSITIVE_INFINITY : now - this.lastLossAt;
        if (this.goodStreak >= this.cfg.upAfter && quietFor >= this.cfg.holdDownMs) {
          return this.enter(
            warn === null ? "up" : "degraded",
            now,
            `answered ${this.goodStreak} probe rounds in a row, none lost for ${Math.round(quietFor)} ms`,
          );
        }
        return this.keep(this.reason);
      }
      case "up":
        return warn === null ? this.keep("answering probes") : this.enter("degraded", now, warn);
      case "degraded":
        if (warn !== null) return this.keep(warn);
        if (this.goodStreak >= this.cfg.upAfter) return this.enter("up", now, "answering probes");
        return this.keep(this.reason);
    }
  }

  /** The interface lost its carrier (or went away): down now, whatever the probes said. */
  carrierLost(now: number, reason: string): Transition | null {
    this.noCarrier = true;
    this.goodStreak = 0;
    this.lastLossAt = now;
    return this.enter("down", now, reason);
  }

  /**
   * The carrier is back. Nothing changes state here: the probes bring the link up, after
   * `upAfter` good rounds and the hold-down counted from the carrier loss.
   */
  carrierRestored(now: number): void {
    if (!this.noCarrier) return;
    this.noCarrier = false;
    this.goodStreak = 0;
    this.lastLossAt = now;
    if (this.state === "down") this.reason = "carrier is back; waiting for probes";
  }

  hasCarrier(): boolean {
    return !this.noCarrier;
  }

  private keep(reason: string): null {
    this.reason = reason;
    return null;
  }

  /** The prober stopped (fping exited, the spec changed): no verdict until rounds come again. */
  reset(now: number, reason: string): Transition | null {
    this.missStreak = 0;
    this.goodStreak = 0;
    this.window.length = 0;
    return this.enter("unknown", now, reason);
  }

  status(): LinkStatus {
    const { lossPct, rttMs } = this.metrics();
    return {
      state: this.state,
      since: this.since,
      reason: this.reason,
      missStreak: this.missStreak,
      goodStreak: this.goodStreak,
      lastLossAt: this.lastLossAt,
      lastGoodAt: this.lastGoodAt,
      lossPct,
      rttMs,
      lastRttMs: this.lastRttMs,
      samples: this.window.length,
    };
  }
}
