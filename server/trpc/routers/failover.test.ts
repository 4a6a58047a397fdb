import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../services/audit/record";
import { META } from "../../../testkit/server/gateways";
import { recordHealthReport } from "../../services/failover/health-report";
import { type FailoverCluster, healthReport, ispHealth, makeFailoverCluster } from "../../../testkit/server/failover";
import type { HealthOverview } from "../../services/failover/overview";
import type { Sample } from "../../../core/health/series";
import { type ApiHarness, apiHarness } from "../../../testkit/server/api";

type Live = { overview: HealthOverview; samples: Sample[] };

/** A server-side caller gets tracked() envelopes as they are yielded: [id, data, marker]. */
function message(value: unknown): { id: string; data: Live } {
  if (Array.isArray(value)) return { id: String(value[0]), data: value[1] as Live };
  return value as { id: string; data: Live };
}

let h: ApiHarness;
let c: FailoverCluster;

beforeAll(async () => {
  h = await apiHarness("sqlite");
  const actor: Actor = { type: "user", id: h.users.operator.id, name: "operator" };
  c = await makeFailoverCluster(h.db, actor, { name: "live", gateways: 1 });
});
afterAll(async () => {
  await h?.close();
});

describe("failover API", () => {
  it("streams the overview and each new sample to a viewer as health reports arrive", async () => {
    const gw = c.gateways[0] ?? { token: "" };
    await recordHealthReport(h.db, META, gw.token, healthReport({ isps: [ispHealth(c.ispA), ispHealth(c.ispB)] }));
    const history = await h.as("viewer").failover.history({ clusterId: c.clusterId });
    expect(history.samples).toHaveLength(1);

    const stream = await h.as("viewer").failover.live({ clusterId: c.clusterId, after: history.cursor });
    const it = stream[Symbol.asyncIterator]();
    const first = message((await it.next()).value);
    expect(first.data.overview.isps.map((i) => i.name)).toEqual(["isp-a", "isp-b"]);
    expect(first.data.samples).toEqual([]);

    const sentAt = Date.now();
    const next = it.next();
    await recordHealthReport(
      h.db,
      META,
      gw.token,
      healthReport({ isps: [ispHealth(c.ispA, { state: "down", lossPct: 100 }), ispHealth(c.ispB)] }),
    );
    const second = message((await next).value);
    // woken by the report, not by the one-second tick
    expect(Date.now() - sentAt).toBeLessThan(900);
    expect(second.data.samples).toHaveLength(1);
    expect(second.data.samples[0]?.isps[c.ispA]).toMatchObject({ s: "down", l: 100 });
    expect(second.id).toBe(String(second.data.samples[0]?.id));
    const card = second.data.overview.isps.find((i) => i.id === c.ispA);
    expect(card?.counts).toMatchObject({ down: 1 });
    await it.return?.();
  });

  it("lets operators fail over and restore, and no viewer", async () => {
    // a failover never goes to a backup that is down: report isp-a healthy again first
    await recordHealthReport(
      h.db,
      META,
      c.gateways[0]?.token ?? "",
      healthReport({ isps: [ispHealth(c.ispA), ispHealth(c.ispB)] }),
    );
    await expect(
      h.as("viewer").failover.failover({ clusterId: c.clusterId, ispId: c.ispB, backupIspId: null }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    const impact = await h.as("viewer").failover.impact({ clusterId: c.clusterId, ispId: c.ispB, action: "failover" });
    expect(impact.backupToUse?.name).toBe("isp-a");
    const r = await h.as("operator").failover.failover({ clusterId: c.clusterId, ispId: c.ispB, backupIspId: null });
    expect(r.failoverEpoch).toBe(1);
    await h.as("admin").failover.restore({ clusterId: c.clusterId, ispId: c.ispB });
    const overview = await h.as("viewer").failover.overview({ clusterId: c.clusterId });
    expect(overview.events.map((e) => [e.action, e.actorName])).toEqual([
      ["isp.restore", "admin"],
      ["isp.failover", "operator"],
    ]);
  });
});
