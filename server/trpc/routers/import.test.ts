import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, tableCounts } from "../../../testkit/server/api";

const SAMPLES = join(__dirname, "../../../core/import/__samples__");
const sample = (name: string) => readFileSync(join(SAMPLES, name), "utf8");

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
    return { code: "OK", message: "" };
  } catch (e) {
    if (e instanceof TRPCError) return { code: e.code, message: e.message };
    throw e;
  }
}

describe.each(PROVIDERS)("import into the draft on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function cluster(name: string) {
    const op = h.as("operator");
    const c = await op.cluster.create({ name });
    await op.isp.create({ clusterId: c.id, fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1" } });
    return c.id;
  }

  it("previews line by line, asks, then adds everything as one audited draft change", async () => {
    const op = h.as("operator");
    const clusterId = await cluster("imp-ipt");
    // the sample's -o eth2 -j MASQUERADE line needs the ISP on eth2
    await op.isp.create({ clusterId, fields: { name: "cable", interface: "eth2", nextHop: "100.66.0.1" } });
    const text = sample("nat.iptables-save");
    const first = await op.import.preview({ clusterId, text });
    expect(first.format).toBe("iptables");
    expect(first.questions.map((q) => q.key)).toEqual([]);
    expect(first.lineCount).toBe(25);
    expect(first.lines.find((l) => l.line === 12)?.message).toMatch(
      /^imported as virtual service "tcp-192.0.2.80-80" .*--mode nth/,
    );
    // MASQUERADE on eth2 becomes the interface-address pool of the ISP there; the port-25 SNAT line is
    // a rule with destination ports, with its own one-address pool
    expect(first.counts).toEqual({
      isps: 0,
      pools: 4,
      zones: 0,
      rules: 7,
      virtualServices: 1,
      haSettings: 0,
      gatewaySettings: 0,
    });
    expect(first.changes.rules.every((r) => r.change === "added")).toBe(true);
    expect(first.blockers).toEqual([]);
    const before = await h.db.auditEvent.count({ where: { action: "draft.import" } });
    const out = await op.import.add({ clusterId, text, draftVersion: first.draftVersion });
    expect(out.added).toEqual(first.counts);
    const rules = await op.rule.list({ clusterId, offset: 0, limit: 50 });
    expect(rules.total).toBe(7);
    const pools = await op.pool.list({ clusterId });
    expect(pools.filter((p) => p.entity.mode === "interface").map((p) => p.entity.addresses)).toEqual([[]]);
    // an iptables chain is first-match: the empty cluster's rules now apply in the order listed
    expect(first.notes.join(" ")).toMatch(/rules will apply in the order listed/);
    expect((await op.cluster.get({ id: clusterId })).settings.ruleOrder).toBe("list");
    expect((await op.rule.orderModePreview({ clusterId, mode: "list" })).current).toBe("list");
    expect(rules.rules.find((r) => r.rule.dstPorts?.length)?.rule).toMatchObject({ protocol: "tcp", dstPorts: ["25"] });
    // the DNAT cascade is a virtual service of the draft
    const vs = await h.db.virtualService.findMany({ where: { clusterId } });
    expect(vs.map((v) => v.name)).toEqual(["tcp-192.0.2.80-80"]);
    expect(JSON.parse(vs[0]?.fields ?? "{}")).toMatchObject({
      address: "192.0.2.80",
      port: 80,
      scheduler: "rr",
      realServers: [{ address: "10.9.0.1" }, { address: "10.9.0.2" }],
    });
    expect(await h.db.auditEvent.count({ where: { action: "draft.import", clusterId } })).toBe(before + 1);
    const event = await h.db.auditEvent.findFirst({ where: { action: "draft.import", clusterId } });
    expect(event?.actorName).toBe("operator");
    // never published
    const status = await op.draft.summary({ clusterId });
    expect(status.publishedRevision).toBe(0);
    expect(status.dirty).toBe(true);
  });

  it("refuses to apply while a question is open, and applies with the answer", async () => {
    const op = h.as("operator");
    const clusterId = await cluster("imp-q");
    const text = "-K -F 10.1.0.0/16 --oif eth9 -U 192.0.2.77";
    const p = await op.import.preview({ clusterId, text, format: "ipvsadm" });
    expect(p.questions[0]?.key).toBe("nextHop:eth9");
    const refused = await codeOf(op.import.add({ clusterId, text, draftVersion: p.draftVersion }));
    expect(refused.code).toBe("BAD_REQUEST");
    expect(refused.message).toMatch(/question/);
    const answers = { "nextHop:eth9": "203.0.113.9" };
    const ok = await op.import.add({ clusterId, text, answers, draftVersion: p.draftVersion });
    expect(ok.added).toEqual({
      isps: 1,
      pools: 1,
      zones: 0,
      rules: 1,
      virtualServices: 0,
      haSettings: 0,
      gatewaySettings: 0,
    });
  });

  it("imports keepalived with uploaded include files", async () => {
    const op = h.as("operator");
    const clusterId = await cluster("imp-ka");
    const p = await op.import.preview({
      clusterId,
      text: sample("keepalived.conf"),
      fileName: "keepalived.conf",
      files: { "conf.d/snat.conf": sample("conf.d/snat.conf") },
      answers: { "isp:local_address_group laddr_office": "telia" },
    });
    expect(p.questions).toEqual([]);
    expect(p.counts.rules).toBe(5);
    expect(p.blockers).toEqual([]);
  });

  it("adds keepalived virtual services and VRRP settings to the draft", async () => {
    const op = h.as("operator");
    const clusterId = await cluster("imp-vs");
    const input = { clusterId, text: sample("vs-keepalived.conf"), fileName: "keepalived.conf" };
    const p = await op.import.preview(input);
    expect(p.blockers).toEqual([]);
    expect(p.counts).toMatchObject({ rules: 0, virtualServices: 4, haSettings: 1 });
    const out = await op.import.add({ ...input, draftVersion: p.draftVersion });
    expect(out.added).toEqual(p.counts);
    const rows = await h.db.virtualService.findMany({ where: { clusterId }, orderBy: { seq: "asc" } });
    expect(rows.map((r) => r.name)).toEqual([
      "tcp-192.0.2.80-80",
      "tcp-192.0.2.80-443",
      "udp-192.0.2.53-53",
      "tcp-192.0.2.25-all",
    ]);
    expect(JSON.parse(rows[0]?.fields ?? "{}").healthCheck).toMatchObject({ kind: "http", path: "/healthz" });
    const settings = JSON.parse(
      (await h.db.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { settings: true } })).settings,
    );
    expect(settings.ha).toMatchObject({ mode: "active_standby", lanVirtualAddress: "10.0.0.1/24", lanVrid: 51 });
    expect(settings.ha.links).toHaveLength(1);
    // importing the same text again adds nothing: the services are there, the settings the same
    const again = await op.import.preview(input);
    expect(again.counts.virtualServices).toBe(0);
  });

  it("refuses hostile input with a clear error and leaves the draft untouched", async () => {
    const op = h.as("operator");
    const clusterId = await cluster("imp-hostile");
    const version = (await op.draft.summary({ clusterId })).draftVersion;
    const before = await tableCounts(h.db);
    const attempts = [
      { text: `# ${"x".repeat(10_000_000)}` },
      { text: "-K -F 10.1.0.0/16\u0000\u0001" },
      { text: "\u0001\u0002\u0003\u0004 binary" },
      { text: "#\n".repeat(100_000) },
      {
        text: "include a.conf\n",
        format: "keepalived" as const,
        files: { "a.conf": "include keepalived.conf\n", "keepalived.conf": "" },
      },
      { text: "include ../../etc/passwd\n", format: "keepalived" as const },
    ];
    const messages: string[] = [];
    for (const a of attempts) {
      for (const proc of ["preview", "apply"] as const) {
        const input = { clusterId, ...a, draftVersion: version };
        const r = await codeOf(proc === "preview" ? op.import.preview(input) : op.import.add(input));
        expect(r.code, `${proc} ${a.text.slice(0, 30)}`).toBe("BAD_REQUEST");
        if (proc === "apply") messages.push(r.message);
      }
    }
    expect(messages[0]).toMatch(/larger than 2 MB/);
    expect(messages[1]).toMatch(/NUL/);
    expect(messages[2]).toMatch(/binary/);
    expect(messages[3]).toMatch(/more than 50,000 lines/);
    expect(messages[4]).toMatch(/loops/);
    expect(messages[5]).toMatch(/outside/);
    expect(await tableCounts(h.db)).toEqual(before);
    expect((await op.draft.summary({ clusterId })).draftVersion).toBe(version);
  });

  it("refuses a stale draft version and viewers", async () => {
    const clusterId = await cluster("imp-stale");
    const text = "-K -F 10.1.0.0/16 --oif eth1 -U 192.0.2.88";
    expect((await codeOf(h.as("viewer").import.preview({ clusterId, text }))).code).toBe("FORBIDDEN");
    const r = await codeOf(h.as("operator").import.add({ clusterId, text, draftVersion: 999 }));
    expect(r.code).toBe("CONFLICT");
  });
});
