import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../audit/record";
import { type GatewayTestDb, gatewayTestDb, makeUser } from "../../../testkit/server/gateways";
import { assertNoRunningJob, getJob, INTERRUPTED_AFTER_MS, JobRecorder, presentJob } from "./jobs";

let t: GatewayTestDb;
let actor: Actor;
beforeAll(async () => {
  t = await gatewayTestDb();
  actor = await makeUser(t.db, "admin", "admin");
});
afterAll(async () => {
  await t?.close();
});

const steps = [
  { key: "a", label: "First" },
  { key: "b", label: "Second" },
];

describe("SSH jobs", () => {
  it("record each step as it runs and skip what never ran", async () => {
    const job = await JobRecorder.create(t.db, {
      clusterId: "c1",
      gatewayId: null,
      kind: "enroll",
      title: "Enroll x",
      steps,
      actor,
    });
    await job.begin("a");
    expect((await getJob(t.db, job.id)).steps[0]).toMatchObject({ state: "running", finishedAt: null });
    await job.end("a", "failed", "it broke");
    await job.finish("failed", "First failed: it broke");
    const view = await getJob(t.db, job.id);
    expect(view).toMatchObject({ state: "failed", error: "First failed: it broke", actorName: "admin" });
    expect(view.steps.map((s) => [s.key, s.state, s.detail])).toEqual([
      ["a", "failed", "it broke"],
      ["b", "skipped", ""],
    ]);
    expect(view.finishedAt).not.toBeNull();
  });

  it("show a running job nobody touched for a while as interrupted", async () => {
    const row = {
      id: "j",
      clusterId: "c",
      gatewayId: null,
      kind: "upgrade",
      title: "t",
      state: "running",
      steps: "[]",
      error: "",
      actorName: "x",
      createdAt: new Date(0),
      finishedAt: null,
    };
    const now = new Date(1_000_000);
    expect(presentJob({ ...row, updatedAt: new Date(now.getTime() - 1000) }, now).state).toBe("running");
    const stale = presentJob({ ...row, updatedAt: new Date(now.getTime() - INTERRUPTED_AFTER_MS - 1) }, now);
    expect(stale.state).toBe("interrupted");
    expect(stale.error).toMatch(/console stopped/);
  });

  it("refuse a second job on a gateway while one runs", async () => {
    const job = await JobRecorder.create(t.db, {
      clusterId: "c2",
      gatewayId: "g2",
      kind: "upgrade",
      title: "Upgrade g2",
      steps,
      actor,
    });
    await expect(assertNoRunningJob(t.db, { gatewayIds: ["g2"] })).rejects.toThrow(/"Upgrade g2" is still running/);
    await expect(assertNoRunningJob(t.db, { gatewayIds: ["g3"] })).resolves.toBeUndefined();
    await job.finish("succeeded");
    await expect(assertNoRunningJob(t.db, { gatewayIds: ["g2"] })).resolves.toBeUndefined();
  });
});
