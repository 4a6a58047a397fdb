import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness } from "../../../testkit/server/api";

const SAMPLES = join(__dirname, "../../../core/import/__samples__");

describe.each(PROVIDERS)("export and policy documents on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("exports a revision and the draft, and a document written into another cluster gives the same policy", async () => {
    const op = h.as("operator");
    const a = await op.cluster.create({ name: "exp-a" });
    await op.isp.create({ clusterId: a.id, fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1" } });
    await op.isp.create({
      clusterId: a.id,
      fields: { name: "cable", interface: "eth2", addressing: "dhcp", nextHop: "100.66.0.1" },
    });
    const text = readFileSync(join(SAMPLES, "nat.iptables-save"), "utf8");
    const p = await op.import.preview({ clusterId: a.id, text });
    await op.import.add({ clusterId: a.id, text, draftVersion: p.draftVersion });
    const s = await op.draft.summary({ clusterId: a.id });
    await op.draft.publish({ clusterId: a.id, message: "imported", draftVersion: s.draftVersion });

    const viewer = h.as("viewer");
    const yaml = await viewer.export.policy({ clusterId: a.id, revision: 1, format: "yaml" });
    expect(yaml.fileName).toBe("exp-a-r1.yaml");
    const ipt = await viewer.export.policy({ clusterId: a.id, revision: "draft", format: "iptables" });
    expect(ipt.text).toContain("--to-source 192.0.2.10-192.0.2.20:1024-65535 --persistent");
    expect(ipt.text).toContain('-o eth2 -m comment --comment "iptables line 19" -j MASQUERADE');

    // the same document into an empty cluster: the draft becomes exactly revision 1's policy
    const b = await op.cluster.create({ name: "exp-b" });
    const plan = await op.document.plan({ clusterId: b.id, yaml: yaml.text });
    // the ISPs, pools (one of them eth2's interface address) and rules (one by destination port), and
    // the virtual service the sample's DNAT line became
    expect(plan.summary.added).toBe(14);
    await op.document.write({ clusterId: b.id, yaml: yaml.text, draftVersion: plan.draftVersion });
    expect(await h.db.virtualService.count({ where: { clusterId: b.id } })).toBe(1);
    const again = await viewer.export.policy({ clusterId: b.id, revision: "draft", format: "yaml" });
    // ids are unique across clusters, so the copy has its own; everything else is the same
    const same = (t: string) =>
      t
        .replace(/^( *-? *)id: .*$/gm, "$1id")
        .replace(/hashSeed: \d+/, "")
        .replace(/cluster: .*/, "");
    expect(same(again.text)).toBe(same(yaml.text));
    // writing the same document again changes nothing, and is refused as such
    const second = await op.document.plan({ clusterId: b.id, yaml: again.text });
    expect(second.summary.total).toBe(0);
    expect(await h.db.auditEvent.count({ where: { action: "draft.apply-document", clusterId: b.id } })).toBe(1);
  });

  it("refuses an invalid document and leaves the draft untouched", async () => {
    const op = h.as("operator");
    const c = await op.cluster.create({ name: "exp-bad" });
    const v = (await op.draft.summary({ clusterId: c.id })).draftVersion;
    await expect(
      op.document.write({
        clusterId: c.id,
        yaml: "gatehouse: 1\npools:\n  - name: p\n    isp: nope\n    addresses: [192.0.2.1]\n",
        draftVersion: v,
      }),
    ).rejects.toThrow(/no ISP named "nope"/);
    expect((await op.draft.summary({ clusterId: c.id })).draftVersion).toBe(v);
  });
});
