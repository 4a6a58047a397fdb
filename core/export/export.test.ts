import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emptyPolicy, importPolicy } from "../import/index";
import type { Policy } from "../policy/model";
import { validatePolicy } from "../policy/validate";
import { readPolicyDocument, writePolicyDocument } from "./document";
import { exportIptables, exportIpvsadm, exportKeepalived } from "./scripts";
import { standaloneHa } from "../policy/ha";

const SAMPLES = join(__dirname, "../import/__samples__");
const sample = (name: string) => readFileSync(join(SAMPLES, name), "utf8");
const reader = (p: string) => {
  try {
    return readFileSync(join(SAMPLES, p), "utf8");
  } catch {
    return null;
  }
};

/** Policies from every importer, plus hand-made variety: the round trips run over all of them. */
function policies(): Array<[string, Policy]> {
  const ipt = importPolicy(sample("nat.iptables-save"), emptyPolicy(), {
    answers: { "nextHop:eth1": "198.51.100.1", "nextHop:eth2": "203.0.113.1" },
  }).policy;
  const lvs = importPolicy(sample("lvs-snat.ipvsadm.sh"), emptyPolicy()).policy;
  const ka = importPolicy(sample("keepalived.conf"), lvs, {
    fileName: "keepalived.conf",
    readFile: reader,
    answers: { "isp:local_address_group laddr_office": "eth1" },
  });
  expect(ka.problems).toEqual([]);
  const rich: Policy = structuredClone(ka.policy);
  const [a, b] = rich.isps as [Policy["isps"][0], Policy["isps"][0]];
  a.backupIspIds = [b.id];
  a.defaultPoolId = rich.pools[0]?.id ?? null;
  a.failoverMode = "automatic";
  a.probeTargets = ["192.0.2.200"];
  a.monitor = { ...a.monitor, downAfter: 7 };
  const r0 = rich.rules[0] as Policy["rules"][0];
  r0.fallbackPoolId = rich.pools[1]?.id ?? null;
  r0.enabled = false;
  r0.protocol = "udp";
  rich.rules.push({
    ...r0,
    id: "drop-1",
    seq: 99,
    action: { type: "drop" },
    fallbackPoolId: null,
    enabled: true,
    priority: 5,
    comment: "quarantine",
  });
  rich.rules.push({
    ...r0,
    id: "criteria-1",
    seq: 100,
    protocol: "tcp",
    dstPorts: ["443", "8000-8100"],
    inInterfaces: ["lan0", "lan1"],
    fwmark: { value: 0x10000000, mask: 0xf0000000 },
    fallbackPoolId: null,
    enabled: true,
    priority: null,
    comment: "web from marked LAN traffic",
  });
  rich.settings = {
    unmatched: "forward",
    hashSeed: 123456,
    lanInterfaces: ["lan0"],
    internalInterfaces: [],
    ha: standaloneHa(),
    gateways: [],
  };
  return [
    ["empty", emptyPolicy()],
    ["iptables", ipt],
    ["lvs-snat", lvs],
    ["keepalived", ka.policy],
    ["rich", rich],
  ];
}

describe("the YAML policy document", () => {
  it.each(policies())("reads back exactly what it wrote (%s)", (_name, policy) => {
    expect(validatePolicy(policy)).toEqual([]);
    const text = writePolicyDocument(policy, "gw-cluster");
    const back = readPolicyDocument(text);
    expect(back.errors).toEqual([]);
    expect(back.cluster).toBe("gw-cluster");
    expect(back.policy).toEqual(policy);
    // and writing again gives the same text
    expect(writePolicyDocument(back.policy, "gw-cluster")).toBe(text);
  });

  it("matches a hand-written document without ids to the existing entities by name", () => {
    const existing = policies()[1]?.[1] as Policy;
    const isp = existing.isps[0];
    const text = `gatehouse: 1
isps:
  - name: ${isp?.name}
    interface: ${isp?.interface}
    nextHop: ${isp?.nextHop}
pools:
  - name: office
    isp: ${isp?.name}
    addresses: [192.0.2.230-192.0.2.233]
    ports: 1024-65535
rules:
  - from: [10.1.0.0/16]
    egress: ${isp?.name}
    action: snat
    pool: office
    algorithm: sh
`;
    const r = readPolicyDocument(text, { existing, idPrefix: "x" });
    expect(r.errors).toEqual([]);
    expect(r.policy.isps[0]?.id).toBe(isp?.id);
    expect(r.policy.isps[0]?.index).toBe(isp?.index);
    expect(r.policy.pools[0]).toMatchObject({ id: "x-pool-1", portRange: { from: 1024, to: 65535 } });
    expect(r.policy.rules[0]?.seq).toBe(Math.max(...existing.rules.map((x) => x.seq)) + 1);
  });

  it("says what is wrong instead of throwing", () => {
    expect(readPolicyDocument("a: [").errors[0]).toMatch(/^YAML:/);
    expect(readPolicyDocument("gatehouse: 2").errors[0]).toMatch(/gatehouse/);
    expect(readPolicyDocument("gatehouse: 1\nbogus: 1").errors[0]).toMatch(/bogus|Unrecognized/);
    const dangling = readPolicyDocument(
      "gatehouse: 1\nrules:\n  - from: [10.0.0.0/8]\n    action: snat\n    pool: nope\n    algorithm: sh\n",
    );
    expect(dangling.errors).toEqual(['rule 1 pool: there is no pool named "nope" in the document']);
    const bad = readPolicyDocument("gatehouse: 1\nzones:\n  - name: z\n    networks: [10.0.0.1/8]\n");
    expect(bad.errors.join()).toMatch(/host bits/);
  });
});

describe("script exports", () => {
  it("writes iptables-save that the iptables importer reads back to the same rules", () => {
    const policy = policies()[1]?.[1] as Policy;
    const out = exportIptables(policy, "c1");
    expect(out.text).toContain("*nat");
    expect(out.text).toMatch(
      /^-A POSTROUTING -s 10.1.0.0\/16 -d 10.0.0.0\/8 -m comment --comment "iptables line 14" -j RETURN$/m,
    );
    expect(out.text).toContain("--to-source 192.0.2.10-192.0.2.20:1024-65535 --persistent");
    expect(out.text).toMatch(/^-A POSTROUTING -s 10.3.0.0\/16 -o eth2 .*-j MASQUERADE$/m);
    const back = importPolicy(out.text, { ...emptyPolicy(), isps: policy.isps });
    expect(back.problems).toEqual([]);
    const shape = (p: Policy) =>
      p.rules.map((r) => [r.source, r.destinations, r.protocol, r.egressIspId, r.action.type, r.priority]);
    expect(shape(back.policy)).toEqual(shape(policy));
  });

  it("says when lvs-snat cannot keep a policy's list order", () => {
    const policy = policies()[2]?.[1] as Policy;
    const listed = { ...policy, settings: { ...policy.settings, ruleOrder: "list" as const } };
    expect(exportIpvsadm(listed).notExpressible.join("\n")).toMatch(
      /apply in the order listed, which lvs-snat cannot keep/,
    );
    expect(exportIpvsadm(policy).notExpressible.join("\n")).not.toMatch(/order listed/);
  });

  it("lists what iptables cannot express", () => {
    const rich = policies()[4]?.[1] as Policy;
    const out = exportIptables(rich);
    expect(out.notExpressible.join("\n")).toMatch(/is disabled: left out/);
    expect(out.notExpressible.join("\n")).toMatch(/drops, which the nat table cannot do/);
    expect(out.notExpressible.join("\n")).toMatch(/redirects to another ISP/);
    expect(out.notExpressible.join("\n")).toMatch(/is not one address range/);
  });

  it("writes lvs-snat ipvsadm and keepalived text that reads back to the same rules", () => {
    const policy = policies()[2]?.[1] as Policy;
    const ipvs = exportIpvsadm(policy);
    expect(ipvs.text).toContain(
      "-K -F 10.3.0.0/16 -T 0.0.0.0/0 -W 100.64.0.1 --oif eth2 -U 100.64.10.1-100.64.10.8 -O random -N 198.51.100.1",
    );
    const ka = exportKeepalived(policy);
    expect(ka.text).toContain("snat_rule {");
    const shape = (p: Policy) =>
      p.rules.map((r) => JSON.stringify([r.source, r.destinations, r.egressIspId, r.redirectIspId, r.action])).sort();
    const existing = { ...policy, rules: [] };
    for (const text of [ipvs.text, ka.text]) {
      const back = importPolicy(text, existing, { readFile: () => null });
      expect(back.problems).toEqual([]);
      expect(shape({ ...back.policy, rules: back.changes.rules })).toEqual(shape(policy));
    }
  });
});
