import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Policy } from "../policy/model";
import { validatePolicy } from "../policy/validate";
import { orderRules } from "../policy/order";
import { detectFormat, emptyPolicy, type ImportOptions, importPolicy, ImportError, type ImportResult } from "./index";

const SAMPLES = join(__dirname, "__samples__");
const sample = (name: string) => readFileSync(join(SAMPLES, name), "utf8");
const reader = (root: string) => (path: string) => {
  try {
    return readFileSync(join(root, path), "utf8");
  } catch {
    return null;
  }
};

function run(text: string, opts: ImportOptions = {}, existing: Policy = emptyPolicy()): ImportResult {
  return importPolicy(text, existing, opts);
}

/** Every input line has exactly one result, in order, and nothing is left unexplained. */
function expectEveryLine(r: ImportResult, text: string) {
  const count = text.replace(/\r\n?/g, "\n").replace(/\n$/, "").split("\n").length;
  expect(r.lines.filter((l) => l.file === r.lines[0]?.file)).toHaveLength(count);
  for (const l of r.lines)
    expect(l.message, `${l.file}:${l.line}`).not.toBe("not imported because it was not understood");
}

const line = (r: ImportResult, n: number, file = "") => r.lines.find((l) => l.line === n && l.file === file);

const ISP_A = {
  id: "isp-a",
  index: 1,
  name: "telia",
  interface: "eth1",
  addressing: "static" as const,
  nextHop: "198.51.100.1",
  localAddress: null,
  probeTargets: [],
  monitor: {
    intervalMs: 500,
    downAfter: 3,
    upAfter: 5,
    holdDownMs: 10_000,
    lossThresholdPct: 50,
    latencyThresholdMs: 1000,
  },
  failoverMode: "manual" as const,
  failbackMode: "manual" as const,
  flushOnFailback: false,
  backupIspIds: [],
  defaultPoolId: null,
  comment: "",
};
const withIspA = (): Policy => ({ ...emptyPolicy(), isps: [ISP_A] });

describe("format detection", () => {
  it("tells the formats apart", () => {
    expect(detectFormat(sample("nat.iptables-save"))).toBe("iptables");
    expect(detectFormat(sample("lvs-snat.ipvsadm.sh"))).toBe("ipvsadm");
    expect(detectFormat(sample("dsnat.ipvsadm"))).toBe("ipvsadm");
    expect(detectFormat(sample("keepalived.conf"))).toBe("keepalived");
    expect(detectFormat("hello world")).toBeNull();
  });
  it("says every line is not imported when the format is unknown", () => {
    const r = run("hello\nworld");
    expect(r.lines.map((l) => l.status)).toEqual(["not-imported", "not-imported"]);
    expect(r.notes.join()).toMatch(/not recognised/);
  });
});

describe("ipvsadm (lvs-snat)", () => {
  const text = sample("lvs-snat.ipvsadm.sh");
  const r = run(text);

  it("gives every line a result", () => {
    expectEveryLine(r, text);
    expect(line(r, 1)?.status).toBe("ignored");
    expect(line(r, 3)?.message).toMatch(/clears/);
    expect(line(r, 6)?.message).toMatch(/SNAT service \(fwmark 1\)/);
  });

  it("imports -K rules with -F -T -W --oif -U -O -N into ISPs, pools and rules", () => {
    expect(r.questions).toEqual([]);
    expect(r.problems).toEqual([]);
    expect(r.changes.isps.map((i) => [i.interface, i.nextHop])).toEqual([
      ["eth1", "198.51.100.1"],
      ["eth2", "100.64.0.1"],
    ]);
    const [r1, r2, r3, r4] = r.changes.rules;
    expect(r1?.source).toEqual({ kind: "cidrs", cidrs: ["10.1.0.0/16"] });
    expect(r1?.destinations).toEqual([]);
    expect(r1?.action).toMatchObject({ type: "snat", algorithm: "sh" });
    expect(r2?.destinations).toEqual(["203.0.113.0/24"]);
    expect(r2?.action).toMatchObject({ algorithm: "sdh" });
    expect(r3?.action).toMatchObject({ algorithm: "random" });
    expect(r3?.redirectIspId).toBe(r.changes.isps[0]?.id);
    expect(r3?.egressIspId).toBe(r.changes.isps[1]?.id);
    // lvs-snat orders by specificity as Gatehouse does: no pinned priorities
    expect(r.changes.rules.every((x) => x.priority === null)).toBe(true);
    // -P -f 1 -z: the pool of the rule without -U
    const local = r.changes.pools.find((p) => p.name === "snat-local");
    expect(local?.addresses).toEqual(["192.0.2.250"]);
    expect(r4?.action).toMatchObject({ poolId: local?.id });
    expect(line(r, 13)?.message).toMatch(/no -O given/);
  });

  it("says what it changed in pasted text", () => {
    expect(line(r, 11)?.changed).toEqual([
      "dash characters replaced by '-'",
      "netmask 255.255.0.0 read as /16",
      "shortened range 192.0.2.21-25 read as 192.0.2.21-192.0.2.25",
    ]);
    expect(r.changes.pools.find((p) => p.addresses[0] === "192.0.2.21-192.0.2.25")).toBeDefined();
  });

  it("refuses a virtual service whose real servers mix NAT and direct routing, per line", () => {
    expect(line(r, 14)?.message).toMatch(/must all use the same mode/);
    for (const n of [15, 16]) expect(line(r, n)?.message).toMatch(/its service \(line 14\) is not imported/);
  });

  it("matches existing ISPs and merges with existing pools", () => {
    const existing: Policy = {
      ...withIspA(),
      pools: [
        {
          id: "p1",
          name: "a-main",
          ispId: "isp-a",
          mode: "routed",
          addresses: ["192.0.2.10-192.0.2.20"],
          portRange: null,
          comment: "",
        },
      ],
    };
    const out = run("ipvsadm -K -F 10.1.0.0/16 -W 198.51.100.1 --oif eth1 -U 192.0.2.10-192.0.2.20", {}, existing);
    expect(out.changes.isps).toEqual([]);
    expect(out.changes.pools).toEqual([]);
    expect(out.changes.rules[0]).toMatchObject({ egressIspId: "isp-a", action: { poolId: "p1" } });
    expect(out.lines[0]?.message).toMatch(/merged with existing pool "a-main"/);
  });

  it("asks for the next hop of an unknown interface, and uses the answer", () => {
    const q = run("-K -F 10.1.0.0/16 --oif eth3 -U 192.0.2.70");
    expect(q.questions).toEqual([expect.objectContaining({ key: "nextHop:eth3", expects: "nextHop", lines: [1] })]);
    expect(q.lines[0]?.status).toBe("question");
    expect(q.changes.rules).toEqual([]);
    const bad = run("-K -F 10.1.0.0/16 --oif eth3 -U 192.0.2.70", { answers: { "nextHop:eth3": "nope" } });
    expect(bad.questions[0]?.prompt).toMatch(/"nope" is not an IPv4 address/);
    const a = run("-K -F 10.1.0.0/16 --oif eth3 -U 192.0.2.70", { answers: { "nextHop:eth3": "203.0.113.1" } });
    expect(a.changes.isps[0]).toMatchObject({ interface: "eth3", nextHop: "203.0.113.1" });
    expect(a.lines[0]?.status).toBe("imported");
  });

  it("refuses unknown options and bad values per line", () => {
    const out = run("-K -F 10.1.0.0/16 --bogus 1\n-K -F 10.1.0.0/33 -U 1.2.3.4\n-K -F 10.1.0.0/16 -O wrr -U 1.2.3.4");
    expect(out.lines.map((l) => l.status)).toEqual(["not-imported", "not-imported", "not-imported"]);
    expect(out.lines[0]?.message).toMatch(/"--bogus"/);
    expect(out.lines[2]?.message).toMatch(/-O "wrr"/);
  });
});

describe("ipvsadm (dsnat zones)", () => {
  const text = sample("dsnat.ipvsadm");

  it("asks which ISP owns the zones' addresses when the cluster has several or none", () => {
    const r = run(text);
    expect(r.questions.map((q) => q.key)).toEqual([
      "isp:the local addresses of zone 10.10.0.0/16",
      "isp:the local addresses of zone 10.20.0.0/16",
    ]);
    expect(r.notes).toContain("Windows (CRLF) line endings read as plain line ends");
  });

  it("keeps zone order with pinned priorities, round robin, and reports a zone without addresses", () => {
    const r = run(text, {}, withIspA());
    expectEveryLine(r, text);
    expect(r.problems).toEqual([]);
    expect(r.changes.zones.map((z) => z.networks)).toEqual([["10.10.0.0/16"], ["10.20.0.0/16"]]);
    expect(r.changes.rules.map((x) => x.priority)).toEqual([10, 20]);
    expect(r.changes.rules.every((x) => x.action.type === "snat" && x.action.algorithm === "rr")).toBe(true);
    expect(r.changes.pools[0]?.addresses).toEqual(["192.0.2.101", "192.0.2.102-192.0.2.104"]);
    expect(line(r, 5)?.status).toBe("merged");
    expect(line(r, 7)?.message).toMatch(/no local addresses/);
  });

  it("pins after the existing priorities in a most-specific-first cluster, and not in a list-ordered one", () => {
    const listed = run(text, {}, withIspA()).policy;
    expect(listed.settings.ruleOrder).toBe("list");
    const more = "-K --zone 10.40.0.0/16\n-P --zone 10.40.0.0/16 -z 192.0.2.140";
    const appended = run(more, {}, listed);
    expect(appended.changes.rules[0]).toMatchObject({ priority: null, seq: 2 });
    const { ruleOrder: _, ...specific } = listed.settings;
    const again = run(more, {}, { ...listed, settings: specific });
    expect(again.changes.rules[0]?.priority).toBe(30);
    expect(again.changes.rules[0]?.seq).toBe(2);
  });
});

describe("iptables-save (nat)", () => {
  const text = sample("nat.iptables-save");
  const answers = { "nextHop:eth1": "198.51.100.1", "nextHop:eth2": "100.64.0.1" };

  it("imports POSTROUTING SNAT and exclusions in order with pinned priorities", () => {
    const r = run(text, { answers });
    expectEveryLine(r, text);
    expect(r.questions).toEqual([]);
    expect(r.problems).toEqual([]);
    const rules = r.changes.rules;
    expect(rules.map((x) => x.priority)).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(rules.map((x) => x.action.type)).toEqual(["exclude", "exclude", "snat", "snat", "snat", "snat", "snat"]);
    expect(rules[1]?.comment).toBe("no NAT to the DC");
    expect(rules.map((x) => x.protocol)).toEqual(["any", "any", "tcp", "udp", "any", "any", "tcp"]);
    expect(rules[6]?.dstPorts).toEqual(["25"]);
    expect(rules[2]?.action).toMatchObject({ algorithm: "sh" });
    expect(rules[4]?.action).toMatchObject({ algorithm: "sdh" });
    // the tcp and udp rules share one pool, with its ports; the port-25 rule has its own address
    expect(r.changes.pools).toHaveLength(4);
    expect(r.changes.pools[0]?.portRange).toEqual({ from: 1024, to: 65535 });
    // -o eth2 -j MASQUERADE: the interface-address pool of the ISP on eth2
    const eth2 = r.changes.isps.find((i) => i.interface === "eth2");
    expect(r.changes.pools[2]).toMatchObject({ mode: "interface", addresses: [], ispId: eth2?.id });
    expect(rules[5]).toMatchObject({ egressIspId: eth2?.id, action: { type: "snat", poolId: r.changes.pools[2]?.id } });
    expect(line(r, 17)?.status).toBe("imported");
    expect(line(r, 17)?.message).toMatch(/merged with new pool/);
    expect(r.notes.join()).toMatch(/priorities 10 apart/);
  });

  it("makes an empty cluster's rules apply in the order listed, as the chain reads, and says so", () => {
    const r = run(text, { answers });
    expect(r.changes.ruleOrder).toBe("list");
    expect(r.policy.settings.ruleOrder).toBe("list");
    expect(r.notes.join()).toMatch(/rules will apply in the order listed/);
    // the order the gateway checks is the file's
    expect(orderRules(r.policy).map((x) => x.rule.id)).toEqual(r.changes.rules.map((x) => x.id));
  });

  it("adds to the end of a list-ordered cluster without pinning, and keeps a most-specific cluster's mode", () => {
    const first = run(text, { answers });
    const again = run(text.replace(/-A POSTROUTING -s 10\.1\./g, "-A POSTROUTING -s 10.9."), { answers }, first.policy);
    expect(again.changes.rules.every((x) => x.priority === null)).toBe(true);
    expect(again.changes.ruleOrder).toBeUndefined();
    expect(again.notes.join()).toMatch(/go to the end of the list/);
    const ids = orderRules(again.policy).map((x) => x.rule.id);
    expect(ids.slice(-again.changes.rules.length)).toEqual(again.changes.rules.map((x) => x.id));

    const specific = run(text, { answers });
    const withRule = { ...specific.policy, settings: { ...specific.policy.settings, ruleOrder: undefined } };
    const third = run(text, { answers }, withRule);
    expect(third.changes.ruleOrder).toBeUndefined();
    expect(third.policy.settings.ruleOrder).toBeUndefined();
    expect(third.notes.join()).toMatch(/priorities 10 apart/);
  });

  it("says per line why the rest is not imported", () => {
    const r = run(text, { answers });
    expect(line(r, 4)?.message).toMatch(/only the nat table/);
    expect(line(r, 12)?.message).toMatch(/imported as virtual service "tcp-192.0.2.80-80" .*--mode nth/);
    expect(line(r, 13)?.message).toMatch(/real server 10.9.0.2 .* of virtual service "tcp-192.0.2.80-80"/);
    expect(line(r, 19)?.message).toMatch(/imported as .*MASQUERADE: the current address of eth2/);
    expect(line(r, 20)?.message).toMatch(/negation/);
    expect(line(r, 21)?.message).toMatch(/imported as rule at priority 70: from 10.5.0.0\/16 tcp port 25 leaving via/);
    expect(line(r, 22)?.message).toMatch(/jump to user chain LAN-EXCEPT/);
    expect(line(r, 23)?.message).toMatch(/user chain LAN-EXCEPT/);
  });

  it("asks for the next hop of interfaces that are not ISPs", () => {
    const r = run(text);
    expect(r.questions.map((q) => q.key)).toEqual(["nextHop:eth1", "nextHop:eth2"]);
    expect(r.questions[0]?.lines).toEqual([16, 17, 18, 21]);
  });

  it("takes -j MASQUERADE into one interface-address pool per ISP, and refuses it without -o or with bad ports", () => {
    const r = run(
      [
        "iptables -t nat -A POSTROUTING -s 10.9.0.0/16 -o eth1 -j MASQUERADE --to-ports 2000-2999",
        "iptables -t nat -A POSTROUTING -s 10.8.0.0/16 -o eth1 -j MASQUERADE --to-ports 2000-2999",
        "iptables -t nat -A POSTROUTING -s 10.7.0.0/16 -j MASQUERADE",
        "iptables -t nat -A POSTROUTING -s 10.6.0.0/16 -o eth1 -j MASQUERADE --to-ports 9-x",
      ].join("\n"),
      {},
      withIspA(),
    );
    expect(r.lines.map((l) => l.status)).toEqual(["imported", "imported", "not-imported", "not-imported"]);
    expect(r.changes.pools).toEqual([
      expect.objectContaining({
        ispId: "isp-a",
        mode: "interface",
        addresses: [],
        portRange: { from: 2000, to: 2999 },
      }),
    ]);
    expect(r.lines[1]?.message).toMatch(/merged with new pool/);
    expect(r.lines[2]?.message).toMatch(/without -o/);
    expect(r.lines[3]?.message).toMatch(/--to-ports "9-x"/);
    expect(r.problems).toEqual([]);
  });

  it("reads script lines with iptables -t nat and refuses -I", () => {
    const r = run(
      "sudo iptables -t nat -A POSTROUTING -s 10.9.0.0/16 -o eth1 -j SNAT --to-source 192.0.2.90\niptables -t nat -I POSTROUTING 1 -s 10.8.0.0/16 -j RETURN\niptables -A FORWARD -j ACCEPT",
      {},
      withIspA(),
    );
    expect(r.lines.map((l) => l.status)).toEqual(["imported", "not-imported", "not-imported"]);
    expect(r.changes.rules[0]).toMatchObject({ egressIspId: "isp-a" });
  });
});

describe("keepalived.conf", () => {
  const opts = { fileName: "keepalived.conf", readFile: reader(SAMPLES) };
  const answers = { "isp:local_address_group laddr_office": "telia" };

  it("reads includes in place and imports snat_rule blocks with every key", () => {
    const r = run(sample("keepalived.conf"), { ...opts, answers }, withIspA());
    expect(r.questions).toEqual([]);
    expect(r.problems).toEqual([]);
    const files = [...new Set(r.lines.map((l) => l.file))];
    expect(files).toEqual(["keepalived.conf", "conf.d/snat.conf"]);
    // the included lines follow the include line
    const at = r.lines.findIndex((l) => l.file === "conf.d/snat.conf");
    expect(r.lines[at - 1]).toMatchObject({ line: 6, status: "merged" });
    const snat = r.changes.rules.filter((x) => x.priority === null);
    expect(snat).toHaveLength(3);
    expect(snat[0]).toMatchObject({ egressIspId: "isp-a", action: { algorithm: "sh" } });
    expect(snat[1]).toMatchObject({ redirectIspId: "isp-a", action: { algorithm: "random" } });
    expect(snat[2]).toMatchObject({ destinations: ["203.0.113.0/24"], action: { algorithm: "sdh" } });
    const sub = (n: number) => line(r, n, "conf.d/snat.conf");
    expect(sub(15)?.changed).toEqual(["shortened range 100.64.10.1-8 read as 100.64.10.1-100.64.10.8"]);
    expect(sub(21)?.message).toBe("new_gw of the rule on line 15");
  });

  it("imports dsnat zones with local address groups in order", () => {
    const r = run(sample("keepalived.conf"), { ...opts, answers }, withIspA());
    expect(r.changes.zones.map((z) => z.networks)).toEqual([["10.50.0.0/16"], ["10.60.0.0/16", "10.61.0.0/16"]]);
    const zoneRules = r.changes.rules.filter((x) => x.priority !== null);
    expect(zoneRules.map((x) => x.priority)).toEqual([10, 20]);
    const pool = r.changes.pools.find((p) => p.name === "laddr_office");
    expect(pool?.addresses).toEqual(["192.0.2.120-192.0.2.124", "192.0.2.130"]);
    expect(line(r, 32, "keepalived.conf")?.status).toBe("imported");
  });

  it("reports VRRP, global settings and virtual servers per line", () => {
    const r = run(sample("keepalived.conf"), { ...opts, answers }, withIspA());
    // a LAN-only instance would leave the routed pools without a floating next hop: left out, said why
    expect(line(r, 8, "keepalived.conf")?.message).toMatch(
      /HA settings it gives would not be valid: .*floating link address/,
    );
    for (let n = 9; n <= 16; n++) expect(line(r, n, "keepalived.conf")?.message).toMatch(/part of the VRRP settings/);
    expect(r.changes.ha).toBeNull();
    expect(line(r, 18, "keepalived.conf")?.message).toMatch(/imported as virtual service "tcp-192.0.2.80-80"/);
    for (let n = 19; n <= 28; n++) expect(line(r, n, "keepalived.conf")?.status).toBe("merged");
    expect(line(r, 2, "keepalived.conf")?.message).toMatch(/global_defs/);
  });

  it("refuses include loops and includes outside the directory", () => {
    const files: Record<string, string> = {
      "etc/a.conf": "include b.conf\n",
      "etc/b.conf": "include a.conf\n",
      "etc/up.conf": "include ../secret.conf\n",
      "etc/abs.conf": "include /etc/shadow\n",
    };
    const readFile = (p: string) => files[p] ?? null;
    const go = (f: string) => () =>
      run(files[f] as string, { format: "keepalived", fileName: f, baseDir: "etc", readFile });
    expect(go("etc/a.conf")).toThrow(/loops \(etc\/a.conf -> etc\/b.conf -> etc\/a.conf\)/);
    expect(go("etc/up.conf")).toThrow(/outside etc/);
    expect(go("etc/abs.conf")).toThrow(ImportError);
  });

  it("says so for includes it cannot read", () => {
    const r = run("include missing.conf\ninclude conf.d/*.conf\n", { format: "keepalived", readFile: () => null });
    expect(r.lines.map((l) => l.message)).toEqual([
      "not imported because the included file missing.conf does not exist",
      expect.stringMatching(/wildcard include/),
    ]);
    const noReader = run("include x.conf\n", { format: "keepalived" });
    expect(noReader.lines[0]?.message).toMatch(/was not given/);
  });
});

describe("hostile input", () => {
  it("refuses binary, NUL, too big and too many lines with a clear error", () => {
    expect(() => run("-K\u0000")).toThrow(/NUL bytes/);
    expect(() => run("\u0001\u0002\u0003abc")).toThrow(/binary/);
    expect(() => run("#".repeat(10_000_000))).toThrow(/at most 2 MB/);
    expect(() => run("\n".repeat(100_000))).toThrow(/more than 50,000 lines/);
  });

  it("produces a policy that validatePolicy accepts", () => {
    const r = run(sample("nat.iptables-save"), { answers: { "nextHop:eth1": "198.51.100.1" } });
    expect(validatePolicy(r.policy)).toEqual([]);
  });

  it("reports problems of the resulting policy, such as a pool address in two pools", () => {
    const r = run(
      "-K -F 10.1.0.0/16 -W 198.51.100.1 --oif eth1 -U 192.0.2.1-192.0.2.5\n-K -F 10.2.0.0/16 -W 198.51.100.1 --oif eth1 -U 192.0.2.3",
    );
    expect(r.problems.length).toBeGreaterThan(0);
  });
});
