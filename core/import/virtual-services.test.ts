import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exportIpvsadm, exportKeepalived } from "../export/scripts";
import type { Policy } from "../policy/model";
import { type VirtualService, zHealthCheck, zVirtualService } from "../policy/virtual-service";
import { emptyPolicy, type ImportOptions, type ImportResult, importPolicy } from "./index";

const SAMPLES = join(__dirname, "__samples__");
const sample = (name: string) => readFileSync(join(SAMPLES, name), "utf8");
const run = (text: string, opts: ImportOptions = {}, existing: Policy = emptyPolicy()): ImportResult =>
  importPolicy(text, existing, opts);
const line = (r: ImportResult, n: number, file = "") => r.lines.find((l) => l.line === n && l.file === file);
const vsAt = (r: ImportResult, address: string, port: number | null, protocol = "tcp") =>
  r.changes.virtualServices.find((v) => v.address === address && v.port === port && v.protocol === protocol);

function expectEveryLine(r: ImportResult, text: string, file = "") {
  const count = text.replace(/\r\n?/g, "\n").replace(/\n$/, "").split("\n").length;
  expect(r.lines.filter((l) => l.file === file)).toHaveLength(count);
  for (const l of r.lines) expect(l.message, `${l.file}:${l.line}`).not.toMatch(/not understood|not supported yet/);
}

describe("ipvsadm virtual services", () => {
  const text = sample("vs.ipvsadm");
  const r = run(text);

  it("gives every line a result and the resulting policy no problems", () => {
    expectEveryLine(r, text);
    expect(r.problems).toEqual([]);
    expect(r.changes.virtualServices.map((v) => v.name)).toEqual([
      "tcp-192.0.2.80-80",
      "tcp-192.0.2.80-443",
      "udp-192.0.2.53-53",
      "tcp-192.0.2.25-all",
      "tcp-192.0.2.81-80",
      "tcp-192.0.2.83-80",
    ]);
  });

  it("reads -A/-a into services with NAT real servers, ports, weights and weight 0 as draining", () => {
    const web = vsAt(r, "192.0.2.80", 80);
    expect(web).toMatchObject({ scheduler: "wrr", persistenceSeconds: 0, healthCheck: { kind: "none" } });
    expect(web?.realServers).toEqual([
      { address: "10.9.0.1", port: 8080, weight: 3, mode: "nat", state: "enabled" },
      { address: "10.9.0.2", port: 8080, weight: 1, mode: "nat", state: "enabled" },
      { address: "10.9.0.3", port: 8080, weight: 1, mode: "nat", state: "draining" },
    ]);
    expect(line(r, 2)?.status).toBe("imported");
    expect(line(r, 3)?.status).toBe("merged");
    expect(line(r, 5)?.message).toMatch(/weight 0 read as draining/);
  });

  it("reads direct routing, persistence, UDP, mh and the same port as no port", () => {
    const tls = vsAt(r, "192.0.2.80", 443);
    expect(tls).toMatchObject({ scheduler: "sh", persistenceSeconds: 600 });
    expect(tls?.realServers.map((s) => [s.mode, s.port])).toEqual([
      ["dr", null],
      ["dr", null],
    ]);
    const dns = vsAt(r, "192.0.2.53", 53, "udp");
    expect(dns?.scheduler).toBe("mh");
    expect(dns?.realServers.map((s) => [s.address, s.port, s.weight])).toEqual([
      ["10.9.1.1", null, 1],
      ["10.9.1.2", 5353, 2],
    ]);
    expect(line(r, 11)?.changed).toEqual(["non-breaking or special spaces replaced by spaces"]);
  });

  it("reads port 0 with -p as every port, with ipvsadm's default timeout said", () => {
    const all = vsAt(r, "192.0.2.25", null);
    expect(all).toMatchObject({ persistenceSeconds: 300, scheduler: "rr" });
    expect(all?.realServers[0]?.port).toBeNull();
    expect(line(r, 13)?.message).toMatch(/-p without a timeout: ipvsadm's 300 seconds/);
  });

  it("reads wlc as wrr and says so; refuses schedulers without an equivalent", () => {
    expect(vsAt(r, "192.0.2.81", 80)?.scheduler).toBe("wrr");
    expect(line(r, 15)?.message).toMatch(/wlc .* read as wrr/);
    expect(line(r, 15)?.changed).toEqual(["dash characters replaced by '-'"]);
    expect(line(r, 17)?.message).toMatch(/scheduler "lblcr" has no equivalent/);
    expect(line(r, 18)?.message).toMatch(/its service \(line 17\) is not imported/);
  });

  it("refuses tunnelling per real server, fwmark services whose mark is Gatehouse's, orphans and names", () => {
    expect(line(r, 20)).toMatchObject({ status: "not-imported" });
    expect(line(r, 20)?.message).toMatch(/IP-in-IP tunnelling \(-i\) is not supported/);
    expect(vsAt(r, "192.0.2.83", 80)?.realServers.map((s) => s.address)).toEqual(["10.9.4.2"]);
    expect(line(r, 22)?.message).toMatch(/fwmark 7 \(0x7\) uses bits Gatehouse writes itself \(0x0fffffff\)/);
    expect(line(r, 23)?.message).toMatch(/real server of fwmark service 7/);
    expect(line(r, 24)?.status).toBe("ignored");
    expect(line(r, 25)?.message).toMatch(/no -A line adds its service/);
    expect(line(r, 26)?.message).toMatch(/save with ipvsadm -Sn/);
  });

  it("refuses a service the draft already has, and names new ones apart from the draft's", () => {
    const again = run(text, {}, r.policy);
    expect(again.changes.virtualServices).toEqual([]);
    expect(line(again, 2)?.message).toMatch(/existing virtual service "tcp-192.0.2.80-80" already answers/);
    expect(line(again, 3)?.message).toMatch(/its service \(line 2\) is not imported/);
  });

  it("refuses a service its real servers' modes or the policy would make invalid", () => {
    const mixed = run(
      "-A -t 192.0.2.9:80 -s rr\n-a -t 192.0.2.9:80 -r 10.0.0.1:80 -m\n-a -t 192.0.2.9:80 -r 10.0.0.2 -g\n",
    );
    expect(mixed.changes.virtualServices).toEqual([]);
    expect(line(mixed, 1)?.message).toMatch(/must all use the same mode/);
    expect(mixed.problems).toEqual([]);
  });
});

const ISP_TELIA = {
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

describe("keepalived virtual_server and VRRP", () => {
  const file = "vs-keepalived.conf";
  const text = sample(file);
  const r = run(text, { fileName: file }, { ...emptyPolicy(), isps: [ISP_TELIA] });
  const at = (n: number) => line(r, n, file);

  it("gives every line a result and the resulting policy no problems", () => {
    expectEveryLine(r, text, file);
    expect(r.problems).toEqual([]);
    expect(r.questions).toEqual([]);
  });

  it("reads an HTTP_GET service: interval, timeout, retries as fall, rise said as the default, sorry server", () => {
    const web = vsAt(r, "192.0.2.80", 80);
    expect(web).toMatchObject({
      scheduler: "wrr",
      persistenceSeconds: 120,
      sorryServer: { address: "10.9.9.9", port: 8080 },
      healthCheck: {
        kind: "http",
        intervalMs: 5000,
        timeoutMs: 2000,
        fall: 3,
        rise: 2,
        path: "/healthz",
        expectStatus: 204,
      },
    });
    expect(web?.realServers).toEqual([
      { address: "10.9.0.1", port: 8080, weight: 3, mode: "nat", state: "enabled" },
      { address: "10.9.0.2", port: 8080, weight: 1, mode: "nat", state: "draining" },
    ]);
    expect(at(54)?.message).toMatch(/wlc .* read as wrr/);
    expect(at(66)?.message).toMatch(/rise 2 \(Gatehouse's default: keepalived has no such setting\)/);
    expect(at(70)?.message).toMatch(/digest .* not supported/);
    expect(at(72)?.message).toMatch(/one URL: the first one is kept/);
    expect(at(77)?.message).toMatch(/not after a separate delay/);
    expect(at(59)?.status).toBe("not-imported");
    expect(at(62)?.message).toMatch(/"alpha" has no equivalent/);
  });

  it("reads SSL_GET with DR, keeps one check per service and says which", () => {
    const tls = vsAt(r, "192.0.2.80", 443);
    expect(tls?.healthCheck).toMatchObject({ kind: "https", intervalMs: 10_000, timeoutMs: 3000, fall: 1 });
    expect(tls?.realServers.every((s) => s.mode === "dr" && s.port === null)).toBe(true);
    expect(at(109)?.message).toMatch(/one health check per service: the one on line 100/);
  });

  it("reads a UDP service with a TCP check on its port, and refuses MISC_CHECK per line", () => {
    const dns = vsAt(r, "192.0.2.53", 53, "udp");
    expect(dns?.healthCheck).toMatchObject({ kind: "tcp", intervalMs: 3000, timeoutMs: 1000, fall: 2 });
    expect(dns?.realServers.map((s) => s.port)).toEqual([null, 5353]);
    expect(at(115)?.changed).toEqual([]);
    expect(at(116)?.changed).toEqual(["non-breaking or special spaces replaced by spaces"]);
    expect(at(129)?.message).toMatch(/MISC_CHECK is not supported/);
  });

  it("reads port 0 with persistence as every port; refuses TUN, and fwmark services in Gatehouse's bits, with their lines", () => {
    expect(vsAt(r, "192.0.2.25", null)).toMatchObject({ scheduler: "mh", persistenceSeconds: 600 });
    expect(at(135)?.message).toMatch(/no delay_loop: keepalived's 60 s/);
    for (let n = 143; n <= 148; n++) expect(at(n)?.message).toMatch(/tunnelling \(TUN\) is not supported/);
    for (let n = 150; n <= 154; n++)
      expect(at(n)?.message).toMatch(/fwmark 5 \(0x5\) uses bits Gatehouse writes itself/);
  });

  it("reads the VRRP instances into active/standby HA settings", () => {
    expect(r.changes.ha).toEqual({
      mode: "active_standby",
      lanVirtualAddress: "10.0.0.1/24",
      lanVrid: 51,
      advertIntervalMs: 100,
      preempt: false,
      unicast: true,
      trackLinkWeight: 40,
      sync: { enabled: false, interface: null },
      links: [{ ispId: "isp-a", vrid: 61, floatingAddress: "198.51.100.4/24" }],
    });
    expect(r.policy.settings.ha.mode).toBe("active_standby");
    expect(at(14)?.status).toBe("imported");
    expect(at(38)?.message).toMatch(/ISP "telia"'s link \(eth1\): VRID 61, floating address 198.51.100.4\/24/);
    expect(at(34)?.changed).toEqual(["dash characters replaced by '-'"]);
  });

  it("says where what does not map belongs: priorities, state, own addresses, authentication, scripts", () => {
    expect(at(18)?.message).toMatch(/priority belongs in that gateway's settings .*150/);
    expect(at(15)?.message).toMatch(/VRRP priority/);
    expect(at(25)?.message).toMatch(/gateway's LAN address/);
    for (let n = 21; n <= 24; n++) expect(at(n)?.message).toMatch(/authentication is not used/);
    expect(at(11)?.message).toMatch(/notify scripts are not run/);
    expect(at(31)?.message).toMatch(/one address floats per instance/);
    expect(at(6)?.message).toMatch(/fail over together \(VI_LAN, VI_TELIA\)/);
  });

  it("leaves VRRP out, with the reason, when the HA settings would make the policy invalid", () => {
    const lanOnly = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n}\n";
    const bad = run(lanOnly, { fileName: "k.conf" });
    expect(bad.changes.ha).toBeNull();
    expect(line(bad, 1, "k.conf")?.message).toMatch(/virtual_router_id is not 1..255/);
  });
});

describe("iptables-save PREROUTING DNAT", () => {
  const text = sample("dnat.iptables-save");
  const r = run(text);

  it("gives every line a result and the resulting policy no problems", () => {
    expectEveryLine(r, text);
    expect(r.problems).toEqual([]);
    expect(r.changes.virtualServices).toHaveLength(4);
  });

  it("reads an nth cascade as one round-robin service and says what is not kept", () => {
    const web = vsAt(r, "192.0.2.80", 80);
    expect(web?.scheduler).toBe("rr");
    expect(web?.realServers.map((s) => [s.address, s.port, s.mode, s.weight])).toEqual([
      ["10.9.0.1", 8080, "nat", 1],
      ["10.9.0.2", 8080, "nat", 1],
      ["10.9.0.3", 8080, "nat", 1],
    ]);
    expect(line(r, 8)?.message).toMatch(/--mode nth: the rules take turns, scheduler rr/);
    expect(line(r, 8)?.message).toMatch(/-i eth1 is not kept/);
    expect(line(r, 9)?.status).toBe("merged");
    expect(line(r, 11)?.message).toMatch(/the rule on line 10 takes every connection .* never reached/);
  });

  it("reads a probability cascade as shares and weights, and equal shares as random", () => {
    const api = vsAt(r, "192.0.2.81", 443);
    expect(api?.scheduler).toBe("wrr");
    expect(api?.realServers.map((s) => s.weight)).toEqual([2, 1, 1]);
    expect(line(r, 13)?.message).toMatch(/shares 50%, 25%, 25%: scheduler wrr with weights 2, 1, 1/);
    const dns = vsAt(r, "192.0.2.53", 53, "udp");
    expect(dns?.scheduler).toBe("random");
    expect(line(r, 17)?.changed).toEqual(["dash characters replaced by '-'"]);
  });

  it("reads a single DNAT as one real server; refuses what a service cannot be, per line", () => {
    expect(vsAt(r, "192.0.2.25", 25)?.realServers).toEqual([
      { address: "10.9.3.1", port: null, weight: 1, mode: "nat", state: "enabled" },
    ]);
    expect(line(r, 21)?.message).toMatch(/not one address/);
    expect(line(r, 22)?.message).toMatch(/port ranges are not read/);
    expect(line(r, 23)?.message).toMatch(/TCP or UDP/);
    expect(line(r, 24)?.message).toMatch(/ranges are not read/);
    expect(line(r, 25)?.message).toMatch(/"multiport"/);
    expect(line(r, 26)?.message).toMatch(/OUTPUT/);
    expect(line(r, 27)?.message).toMatch(/without DNAT/);
  });
});

describe("round trip: export then import gives the same virtual services", () => {
  const vs = (fields: Record<string, unknown>): VirtualService => zVirtualService.parse(fields);
  const services = [
    vs({
      id: "vs-web",
      name: "web",
      address: "192.0.2.80",
      port: 80,
      scheduler: "wrr",
      persistenceSeconds: 120,
      sorryServer: { address: "10.9.9.9", port: 8080 },
      realServers: [
        { address: "10.9.0.1", port: 8080, weight: 3, mode: "nat" },
        { address: "10.9.0.2", port: null, weight: 1, mode: "nat", state: "draining" },
      ],
      healthCheck: { kind: "http", intervalMs: 5000, timeoutMs: 2000, fall: 3, path: "/healthz", expectStatus: 204 },
    }),
    vs({
      id: "vs-tls",
      name: "tls",
      address: "192.0.2.80",
      port: 443,
      scheduler: "sh",
      realServers: [
        { address: "10.9.0.1", mode: "dr" },
        { address: "10.9.0.2", mode: "dr", weight: 5 },
      ],
      healthCheck: { kind: "https", intervalMs: 10_000, timeoutMs: 3000, fall: 1, path: "/", expectStatus: 200 },
    }),
    vs({
      id: "vs-dns",
      name: "dns",
      address: "192.0.2.53",
      protocol: "udp",
      port: 53,
      scheduler: "mh",
      realServers: [{ address: "10.9.1.1" }, { address: "10.9.1.2", port: 5353, weight: 2 }],
      healthCheck: { kind: "tcp", intervalMs: 3000, timeoutMs: 500, fall: 2 },
    }),
    vs({
      id: "vs-all",
      name: "all-ports",
      address: "192.0.2.25",
      port: null,
      scheduler: "rr",
      persistenceSeconds: 600,
      realServers: [{ address: "10.9.2.1", mode: "dr" }],
      healthCheck: { kind: "none", intervalMs: 60_000 },
    }),
  ];
  const policy: Policy = { ...emptyPolicy(), virtualServices: services };
  const plain = (list: VirtualService[], keep: (v: VirtualService) => Partial<VirtualService>) =>
    list.map((v) => {
      const { id: _id, name: _name, comment: _comment, ...rest } = v;
      return { ...rest, ...keep(v) };
    });

  it("ipvsadm: address, protocol, port, scheduler, persistence and real servers", () => {
    const out = exportIpvsadm(policy);
    expect(out.text).toContain("-A -t 192.0.2.80:80 -s wrr -p 120");
    expect(out.text).toContain("-a -t 192.0.2.80:80 -r 10.9.0.2:80 -m -w 0");
    expect(out.text).toContain("-A -t 192.0.2.25:0 -s rr -p 600");
    expect(out.notExpressible.join("\n")).toMatch(/ipvsadm has no health checks/);
    const back = run(out.text);
    expect(back.problems).toEqual([]);
    expect(back.lines.filter((l) => l.status === "not-imported")).toEqual([]);
    const noCheck = () => ({ healthCheck: zHealthCheck.parse({ kind: "none" }), sorryServer: null });
    expect(plain(back.changes.virtualServices, noCheck)).toEqual(plain(services, noCheck));
  });

  it("keepalived: everything above with health checks and the sorry server", () => {
    const out = exportKeepalived(policy);
    expect(out.text).toContain("virtual_server 192.0.2.80 80 {");
    expect(out.text).toContain("sorry_server 10.9.9.9 8080");
    const back = run(out.text, { fileName: "keepalived.conf" });
    expect(back.problems).toEqual([]);
    expect(back.lines.filter((l) => l.status === "not-imported")).toEqual([]);
    expect(plain(back.changes.virtualServices, () => ({}))).toEqual(plain(services, () => ({})));
  });

  it("says what it leaves out: random scheduler, disabled services", () => {
    const more: Policy = {
      ...policy,
      virtualServices: [
        ...services,
        vs({
          id: "vs-r",
          name: "r",
          address: "192.0.2.70",
          port: 80,
          scheduler: "random",
          realServers: [{ address: "10.1.1.1" }],
        }),
        vs({
          id: "vs-d",
          name: "d",
          address: "192.0.2.71",
          port: 80,
          enabled: false,
          realServers: [{ address: "10.1.1.2" }],
        }),
      ],
    };
    const out = exportKeepalived(more);
    expect(out.notExpressible).toContain('virtual service "r" uses the random scheduler, which IPVS has not: left out');
    expect(out.notExpressible).toContain('virtual service "d" is disabled: left out');
    expect(out.text).not.toContain("192.0.2.70");
  });
});

describe("hostile input: a huge number of real servers", () => {
  const rip = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

  it("ipvsadm: keeps the first 64 real servers of a service and says why for each of the rest", () => {
    const n = 40_000;
    const text = [
      "-A -t 192.0.2.80:80 -s rr",
      ...Array.from({ length: n }, (_, i) => `-a -t 192.0.2.80:80 -r ${rip(i + 1)}:80 -m -w 1`),
    ].join("\n");
    const started = Date.now();
    const r = run(text);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.lines).toHaveLength(n + 1);
    expect(r.changes.virtualServices[0]?.realServers).toHaveLength(64);
    expect(r.lines.filter((l) => l.status === "merged")).toHaveLength(64);
    const refused = r.lines.filter((l) => l.status === "not-imported");
    expect(refused).toHaveLength(n - 64);
    for (const l of refused) expect(l.message).toBe("not imported because a service may have at most 64 real servers");
    expect(r.problems).toEqual([]);
  });

  it("keepalived: refuses real servers beyond 64 per block, each with its reason", () => {
    const blocks = Array.from({ length: 3000 }, (_, i) => `  real_server ${rip(i + 1)} 80 {\n    weight 1\n  }`);
    const text = `virtual_server 192.0.2.80 80 {\n  lb_algo rr\n  lb_kind NAT\n${blocks.join("\n")}\n}\n`;
    const r = run(text, { fileName: "k.conf" });
    expect(r.changes.virtualServices[0]?.realServers).toHaveLength(64);
    expect(line(r, 4 + 3 * 64, "k.conf")?.message).toMatch(/at most 64 real servers/);
    expectEveryLine(r, text, "k.conf");
  });

  it("iptables: a DNAT cascade longer than a service can take is refused per line", () => {
    const n = 5000;
    const text = Array.from(
      { length: n },
      (_, i) =>
        `-A PREROUTING -d 192.0.2.80/32 -p tcp --dport 80 -m statistic --mode nth --every ${n - i} --packet 0 -j DNAT --to-destination ${rip(i + 1)}`,
    ).join("\n");
    const r = run(text, { format: "iptables" });
    expect(r.changes.virtualServices).toEqual([]);
    expect(r.lines.every((l) => /at most 64 real servers \(these rules give 5000\)/.test(l.message))).toBe(true);
  });

  it("many services stay fast: 2000 services of one real server each", () => {
    const text = Array.from({ length: 2000 }, (_, i) => {
      const vip = `192.0.${(i >> 8) & 255}.${(i & 255) + 0}:${1000 + i}`;
      return `-A -t ${vip} -s rr\n-a -t ${vip} -r 10.0.0.1 -m`;
    }).join("\n");
    const started = Date.now();
    const r = run(text);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.changes.virtualServices).toHaveLength(2000);
    expect(new Set(r.changes.virtualServices.map((v) => v.name)).size).toBe(2000);
  });
});

describe("importing into a draft that has the services already", () => {
  it("keepalived: refuses each service the draft has, with its name", () => {
    const text = sample("vs-keepalived.conf");
    const existing: Policy = { ...emptyPolicy(), isps: [ISP_TELIA] };
    const first = run(text, { fileName: "k.conf" }, existing);
    const again = run(text, { fileName: "k.conf" }, first.policy);
    expect(again.changes.virtualServices).toEqual([]);
    expect(line(again, 54, "k.conf")?.message).toMatch(/existing virtual service "tcp-192.0.2.80-80" already answers/);
    expect(again.problems).toEqual([]);
  });
});

describe("ipvsadm and keepalived details", () => {
  it("says what is not kept of -M, -x, -b and refuses -E/-e", () => {
    const text = [
      "ipvsadm -A -t 192.0.2.9:80 -s lc -p 60 -M 255.255.255.0 -b sh-port",
      "ipvsadm -a -t 192.0.2.9:80 -r 10.0.0.1:80 -m -w 2 -x 100",
      "ipvsadm -a -t 192.0.2.9:80 -r 10.0.0.2:80 -m",
      "ipvsadm -E -t 192.0.2.9:80 -s rr",
      "ipvsadm -e -t 192.0.2.9:80 -r 10.0.0.1:80 -m -w 3",
      "ipvsadm -A -t 192.0.2.10:80 -s rr",
      "ipvsadm -a -t 192.0.2.10:80 -r 10.0.0.3:8080",
    ].join("\n");
    const r = run(text);
    expect(r.problems).toEqual([]);
    expect(line(r, 1)?.message).toMatch(/lc \(least connections\) read as rr/);
    expect(line(r, 1)?.message).toMatch(/netmask -M 255.255.255.0 not kept/);
    expect(line(r, 1)?.message).toMatch(/-b sh-port not kept/);
    expect(line(r, 2)?.message).toMatch(/threshold -x 100 not kept/);
    expect(vsAt(r, "192.0.2.9", 80)?.persistenceSeconds).toBe(60);
    // no -m or -g: ipvsadm's default direct routing, which keeps the client's port
    expect(line(r, 7)?.message).toMatch(/default direct routing \(-g\); port 8080 not kept/);
    expect(vsAt(r, "192.0.2.10", 80)?.realServers[0]).toMatchObject({ mode: "dr", port: null });
    expect(line(r, 4)?.message).toMatch(/-E edits a service/);
    expect(line(r, 5)?.message).toMatch(/-e edits a real server/);
  });

  it("keepalived: refuses VRRP on an active/active cluster, and replaces active/standby settings with a note", () => {
    const text =
      "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 52\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n";
    const aa = emptyPolicy();
    aa.settings = { ...aa.settings, ha: { ...aa.settings.ha, mode: "active_active" } };
    const refused = run(text, { fileName: "k.conf" }, aa);
    expect(refused.changes.ha).toBeNull();
    expect(line(refused, 1, "k.conf")?.message).toMatch(/cluster is active\/active/);
    const as = emptyPolicy();
    as.settings = { ...as.settings, ha: { ...as.settings.ha, mode: "active_standby", lanVrid: 9 } };
    const replaced = run(text, { fileName: "k.conf" }, as);
    expect(replaced.changes.ha?.lanVrid).toBe(52);
    expect(replaced.notes.join("\n")).toMatch(/replaced by those read here/);
  });
});
