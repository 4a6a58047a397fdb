/**
 * Turns fping's per-target samples into per-ISP rounds. fping sends to every target at the same
 * tick with the same sequence number; a round is answered as soon as any target answers (the
 * uplink carries traffic), and lost only when every target timed out. So one dead target among
 * several does not take an ISP down, and an answered round is known at the first reply.
 */

/** One probe to one target: rttMs is null when no answer came within the timeout. */
export interface ProbeSample {
  target: string;
  /** fping's sequence number: the same for every target of one round */
  seq: number;
  rttMs: number | null;
}

export interface Round {
  seq: number;
  ok: boolean;
  /** the first answer's round-trip time; null when lost */
  rttMs: number | null;
}

interface Pending {
  waiting: Set<string>;
  decided: boolean;
}

/** Rounds this far behind the newest one are forgotten, answered or not. */
const KEEP_ROUNDS = 64;

export class RoundAggregator {
  private readonly targets: ReadonlySet<string>;
  private readonly pending = new Map<number, Pending>();
  private newest = -1;
  /** every probe to every target: for the loss figure shown to operators */
  probesSent = 0;
  probesLost = 0;

  constructor(targets: readonly string[]) {
    this.targets = new Set(targets);
  }

  /** The round this sample decides, if it decides one. */
  add(sample: ProbeSample): Round | null {
    if (!this.targets.has(sample.target)) return null;
    if (sample.seq < this.newest - KEEP_ROUNDS) return null;
    let p = this.pending.get(sample.seq);
    if (p === undefined) {
      p = { waiting: new Set(this.targets), decided: false };
      this.pending.set(sample.seq, p);
      if (sample.seq > this.newest) {
        this.newest = sample.seq;
        for (const seq of this.pending.keys()) if (seq < this.newest - KEEP_ROUNDS) this.pending.delete(seq);
      }
    }
    if (!p.waiting.delete(sample.target)) return null; // a repeated line
    this.probesSent++;
    if (sample.rttMs === null) this.probesLost++;
    let round: Round | null = null;
    if (!p.decided) {
      if (sample.rttMs !== null) round = { seq: sample.seq, ok: true, rttMs: sample.rttMs };
      else if (p.waiting.size === 0) round = { seq: sample.seq, ok: false, rttMs: null };
      if (round !== null) p.decided = true;
    }
    // finished rounds stay (up to KEEP_ROUNDS) so that a repeated line cannot start them again
    return round;
  }
}
