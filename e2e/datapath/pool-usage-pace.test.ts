import { afterAll, beforeAll, expect, it } from "vitest";
import { CONNTRACK_TABLE_FILE } from "../../agent/health/pool-usage-reader";
import { execSpawner, type ProcessSpawner } from "../../agent/health/spawner";
import { applyOk, entry, labSpec, requireRoot } from "../../testkit/datapath";
import { startHealthService, waitFor } from "../../testkit/lab/health-service";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { connect, type Listener, startListener } from "../../testkit/lab/traffic";

/**
 * How often the agent lists the connections for port usage, on a real gateway namespace: while
 * the conntrack table holds steady and no pool address is near half full it lists every third
 * interval; when connections come, the next count (every 100 ms here) brings the listing back at
 * once instead of at the end of the quiet wait.
 */

const INTERVAL_MS = 1_000;
const UDP = 5300;

let lab: Lab;
let listener: Listener;

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 1 });
  listener = await startListener(lab, lab.ns.server, { addresses: lab.servers, udp: [UDP] });
});

afterAll(async () => {
  await listener?.stop();
  await lab?.destroy();
});

it("lists port usage every third interval while the table holds steady, and at once when it moves", async () => {
  const spec = labSpec(lab, [entry("100.64.0.0/16", { snat: "pa", algorithm: "sh" }, { ruleId: "lan" })]);
  await applyOk(lab, spec);
  const inner = execSpawner({ prefix: ["ip", "netns", "exec", lab.ns.gateway] });
  const dumps: number[] = [];
  const spawner: ProcessSpawner = {
    spawn: (args, handlers) => {
      if (args.join(" ") === `cat ${CONNTRACK_TABLE_FILE}`) dumps.push(Date.now());
      return inner.spawn(args, handlers);
    },
  };
  const { health, stop } = startHealthService(lab, {
    spawner,
    poolUsageIntervalMs: INTERVAL_MS,
    countIntervalMs: 100,
  });
  try {
    expect((await health.apply(spec)).error).toBe("");
    expect(await waitFor(() => dumps.length > 0, 5_000)).toBe(true);
    // a quiet table: about one listing per 3 s, where the usual pace would make six in 6 s
    const from = dumps.length;
    await new Promise((r) => setTimeout(r, 6 * INTERVAL_MS));
    const quiet = dumps.length - from;
    expect(quiet).toBeGreaterThanOrEqual(1);
    expect(quiet).toBeLessThanOrEqual(3);
    // right after a listing, 40 new connections: the table moved, so the next listing comes after
    // the usual interval, not at the end of the quiet wait (3 s after the last)
    const before = dumps.length;
    expect(await waitFor(() => dumps.length > before, 4 * INTERVAL_MS)).toBe(true);
    const last = dumps[before] as number;
    const attempts = await connect(lab, lab.clients[0]?.ns as string, {
      proto: "udp",
      dst: lab.servers[0] as string,
      port: UDP,
      count: 40,
      sport: 30_000,
      parallel: 8,
    });
    expect(attempts.filter((a) => a.ok)).toHaveLength(40);
    expect(Date.now() - last, "the connections took too long to tell").toBeLessThan(2 * INTERVAL_MS);
    expect(await waitFor(() => dumps.length > before + 1, 4 * INTERVAL_MS)).toBe(true);
    expect((dumps[before + 1] as number) - last).toBeLessThan(2.5 * INTERVAL_MS);
  } finally {
    await stop();
  }
});
