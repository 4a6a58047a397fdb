import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, tableCounts } from "../../../testkit/server/api";

/**
 * Destination ports, input interfaces and fwmarks of rules through the API, on both databases:
 * stored and read back, simulated, and bad input refused with the field named and nothing saved.
 */
describe.each(PROVIDERS)("rule match criteria through the API on %s", (provider) => {
  let h: ApiHarness;
  let clusterId: string;
  let poolId: string;
  const src = { kind: "cidrs" as const, cidrs: ["100.64.1.0/24"] };

  /** The code and field issues of a refused call. */
  async function refusal(p: Promise<unknown>) {
    try {
      await p;
    } catch (e) {
      const err = e as { code: string; cause?: { issues?: { path: (string | number)[]; message: string }[] } };
      return { code: err.code, issues: (err.cause?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`) };
    }
    throw new Error("the call should have been refused");
  }

  beforeAll(async () => {
    h = await apiHarness(provider);
    const op = h.as("operator");
    clusterId = (await op.cluster.create({ name: "criteria", description: "" })).id;
    const isp = await op.isp.create({ clusterId, fields: { name: "a", interface: "eth1", nextHop: "198.51.100.1" } });
    poolId = (
      await op.pool.create({
        clusterId,
        fields: { name: "a-main", ispId: isp.entity.id, addresses: ["198.51.100.10-198.51.100.13"] },
      })
    ).entity.id;
    await op.rule.create({
      clusterId,
      fields: { source: src, action: { type: "snat", poolId, algorithm: "sh" }, comment: "plain" },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("stores the criteria, reads them back and simulates by them", async () => {
    const op = h.as("operator");
    const created = await op.rule.create({
      clusterId,
      fields: {
        source: src,
        protocol: "tcp",
        dstPorts: ["443", "8000:8100"],
        inInterfaces: ["lan1"],
        fwmark: { value: 0x10000000, mask: 0xf0000000 },
        action: { type: "exclude" },
        comment: "marked web",
      },
    });
    expect(created.entity).toMatchObject({
      dstPorts: ["443", "8000-8100"],
      inInterfaces: ["lan1"],
      fwmark: { value: 0x10000000, mask: 0xf0000000 },
    });
    const listed = await op.rule.list({ clusterId, search: "port 8000-8100" });
    expect(listed.rules.map((r) => r.rule.comment)).toEqual(["marked web"]);
    // more criteria come first among rules with the same networks
    expect((await op.rule.list({ clusterId })).rules.map((r) => r.rule.comment)).toEqual(["marked web", "plain"]);

    const sim = (over: Record<string, unknown>) =>
      op.draft.simulate({
        clusterId,
        packet: { src: "100.64.1.9", dst: "203.0.113.1", protocol: "tcp", dstPort: 8080, routedIspId: null, ...over },
      });
    const hit = await sim({ inInterface: "lan1", mark: 0x10000000 });
    expect(hit.results[0]?.outcome).toBe("forward");
    const miss = await sim({ inInterface: "lan2", mark: 0x10000000 });
    expect(miss.results[0]?.outcome).toBe("snat");
    expect(miss.results[0]?.skipped[0]?.reasons).toEqual(['it comes in by "lan2", not "lan1"']);
    const unmarked = await sim({ inInterface: "lan1" });
    expect(unmarked.results[0]?.skipped[0]?.reasons).toEqual(["mark 0x0 does not match 0x10000000/0xf0000000"]);

    // an update that clears them stores a rule without any
    const cleared = await op.rule.update({
      clusterId,
      id: created.entity.id,
      version: created.version,
      fields: { ...created.entity, dstPorts: [], inInterfaces: [], fwmark: null },
    });
    expect(cleared.entity.dstPorts ?? []).toEqual([]);
    expect(cleared.entity.fwmark ?? null).toBeNull();
    const row = await h.db.rule.findUniqueOrThrow({ where: { id: created.entity.id }, select: { criteria: true } });
    expect(row.criteria).toBe("{}");
  });

  it("refuses bad criteria naming the field, and saves nothing", async () => {
    const op = h.as("operator");
    const before = await tableCounts(h.db);
    const create = (fields: Record<string, unknown>) =>
      refusal(
        op.rule.create({
          clusterId,
          // deliberately malformed fields
          fields: { source: src, action: { type: "snat", poolId, algorithm: "sh" }, ...fields } as never,
        }),
      );
    // [fields, the field path the issue names, the end of its message]
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ protocol: "tcp", dstPorts: ["0"] }, "dstPorts.0", "port 0 is outside 1-65535"],
      [
        { protocol: "tcp", dstPorts: ["9000-8000"] },
        "dstPorts.0",
        "range 9000-8000: the first port must not be above the last",
      ],
      [{ protocol: "tcp", dstPorts: ["80-90", "85"] }, "dstPorts", "80-90 and 85 overlap"],
      [{ protocol: "any", dstPorts: ["443"] }, "dstPorts", "destination ports need protocol tcp or udp"],
      [{ protocol: "icmp", dstPorts: ["443"] }, "dstPorts", "destination ports need protocol tcp or udp"],
      [
        { inInterfaces: ["eth1"] },
        "inInterfaces.0",
        "traffic coming in from an ISP is not the LAN's and no rule sees it",
      ],
      [{ inInterfaces: ["lan;reboot"] }, "inInterfaces.0", "starting with a letter or digit"],
      [{ fwmark: { value: 1, mask: 0xff } }, "fwmark.mask", "an operator's mark must be in 0xf0000000"],
      [{ fwmark: { value: 0x30000000, mask: 0x10000000 } }, "fwmark.value", "has bits outside the mask 0x10000000"],
      [{ fwmark: { value: 2 ** 32, mask: 0x10000000 } }, "fwmark.value", "must fit in 32 bits"],
      [{ fwmark: "0x10000000" }, "fwmark", ""],
    ];
    for (const [fields, path, tail] of cases) {
      const r = await create(fields);
      const what = JSON.stringify(fields);
      expect(r.code, what).toBe("BAD_REQUEST");
      expect(
        r.issues.some((i) => i.startsWith(`${path}: `) && i.endsWith(tail)),
        `${what}: ${r.issues.join("; ")}`,
      ).toBe(true);
    }
    const sim = await refusal(
      op.draft.simulate({
        clusterId,
        packet: {
          src: "100.64.1.9",
          dst: "203.0.113.1",
          protocol: "tcp",
          routedIspId: null,
          mark: 2 ** 32,
          inInterface: "a/b",
        },
      }),
    );
    expect(sim.code).toBe("BAD_REQUEST");
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it("keeps one of two concurrent edits of the same rule version", async () => {
    const op = h.as("operator");
    const r = await op.rule.create({
      clusterId,
      fields: { source: { kind: "cidrs", cidrs: ["100.64.7.0/24"] }, action: { type: "drop" } },
    });
    const edit = (ports: string[]) =>
      op.rule.update({
        clusterId,
        id: r.entity.id,
        version: r.version,
        fields: { ...r.entity, protocol: "udp", dstPorts: ports },
      });
    const results = await Promise.allSettled([edit(["53"]), edit(["123"])]);
    expect(results.filter((x) => x.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((x) => x.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: "CONFLICT" });
    const stored = (await op.rule.list({ clusterId, search: "100.64.7.0" })).rules[0]?.rule;
    const won = (results.find((x) => x.status === "fulfilled") as PromiseFulfilledResult<typeof r>).value;
    expect(stored?.dstPorts).toEqual(won.entity.dstPorts);
  });
});
