import { describe, expect, it } from "vitest";
import { OFFLINE_AFTER_SECONDS } from "../../../core/protocol/agent-api";
import { connectionOf, type GatewayStateInput, syncOf } from "./state";

const NOW = new Date("2030-01-01T12:00:00Z");
const base: GatewayStateInput = {
  hasAgentToken: true,
  hasEnrollToken: false,
  enrollExpiresAt: null,
  lastSeenAt: NOW,
  appliedRevision: 4,
  appliedEpoch: 1,
  lastApplyOk: true,
};
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);

describe("gateway state", () => {
  it("tells online from offline by three missed heartbeats", () => {
    expect(connectionOf({ ...base, lastSeenAt: ago(OFFLINE_AFTER_SECONDS) }, NOW)).toBe("online");
    expect(connectionOf({ ...base, lastSeenAt: ago(OFFLINE_AFTER_SECONDS + 1) }, NOW)).toBe("offline");
    expect(connectionOf({ ...base, lastSeenAt: null }, NOW)).toBe("never_seen");
  });

  it("names gateways without usable credentials", () => {
    const pending = { ...base, hasAgentToken: false, hasEnrollToken: true, lastSeenAt: null };
    expect(connectionOf({ ...pending, enrollExpiresAt: ago(-60) }, NOW)).toBe("awaiting_enrollment");
    expect(connectionOf({ ...pending, enrollExpiresAt: ago(1) }, NOW)).toBe("enrollment_expired");
    expect(connectionOf({ ...base, hasAgentToken: false }, NOW)).toBe("revoked");
    // re-enrollment pending does not hide that the current token works
    expect(connectionOf({ ...base, hasEnrollToken: true, enrollExpiresAt: ago(-60) }, NOW)).toBe("online");
  });

  it("compares what runs with what was published", () => {
    expect(syncOf(base, { revision: 4, failoverEpoch: 1 })).toBe("in_sync");
    expect(syncOf(base, { revision: 5, failoverEpoch: 1 })).toBe("behind");
    expect(syncOf(base, { revision: 4, failoverEpoch: 2 })).toBe("behind");
    expect(syncOf({ ...base, lastApplyOk: false }, { revision: 4, failoverEpoch: 1 })).toBe("apply_failed");
    expect(syncOf({ ...base, appliedRevision: null, lastApplyOk: null }, { revision: 1, failoverEpoch: 0 })).toBe(
      "not_applied",
    );
    expect(syncOf({ ...base, appliedRevision: null, lastApplyOk: null }, { revision: 0, failoverEpoch: 0 })).toBe(
      "nothing_published",
    );
  });
});
