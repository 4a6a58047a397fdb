import { describe, expect, it } from "vitest";
import { type ApplyAttempt, type GatewayApplyState, rolloutOf } from "./rollout";

const gw = (over: Partial<GatewayApplyState> = {}): GatewayApplyState => ({
  id: "g1",
  name: "gw-1",
  appliedRevision: null,
  lastApplyOk: null,
  lastApplyError: "",
  lastApplyAt: null,
  attemptedRevision: null,
  ...over,
});
const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m));
const attempt = (revision: number, ok: boolean, m: number, error = "", gatewayId = "g1"): ApplyAttempt => ({
  gatewayId,
  revision,
  ok,
  error,
  at: at(m),
});

describe("rolloutOf", () => {
  it("says applied for what the gateway runs and pending for a newer published revision", () => {
    const g = gw({ appliedRevision: 4, lastApplyOk: true, attemptedRevision: 4, lastApplyAt: at(5) });
    const history = [attempt(4, true, 5), attempt(3, true, 1)];
    expect(rolloutOf(4, 5, g, history)).toEqual({ state: "applied", at: at(5) });
    expect(rolloutOf(5, 5, g, history)).toEqual({ state: "pending" });
    expect(rolloutOf(3, 5, g, history)).toEqual({ state: "replaced", at: at(1) });
    expect(rolloutOf(2, 5, g, history)).toEqual({ state: "never" });
  });

  it("names the failure of the current attempt, and of an old one that never succeeded", () => {
    const g = gw({
      appliedRevision: 4,
      lastApplyOk: false,
      attemptedRevision: 5,
      lastApplyError: "nft: syntax error",
      lastApplyAt: at(9),
    });
    const history = [attempt(5, false, 9, "nft: syntax error"), attempt(4, true, 5), attempt(3, false, 2, "boom")];
    expect(rolloutOf(5, 5, g, history)).toEqual({ state: "failed", error: "nft: syntax error", at: at(9) });
    expect(rolloutOf(4, 5, g, history)).toMatchObject({ state: "applied" });
    expect(rolloutOf(3, 5, g, history)).toEqual({ state: "failed", error: "boom", at: at(2) });
  });

  it("counts a retry that succeeded after a failure as applied, and ignores other gateways' attempts", () => {
    const g = gw({ appliedRevision: 2, lastApplyOk: true, attemptedRevision: 2 });
    const history = [attempt(2, true, 3), attempt(2, false, 2, "busy"), attempt(1, true, 1, "", "g2")];
    expect(rolloutOf(2, 2, g, history)).toEqual({ state: "applied", at: at(3) });
    expect(rolloutOf(1, 2, g, history)).toEqual({ state: "never" });
  });
});
