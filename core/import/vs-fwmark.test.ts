import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readPolicyDocument, writePolicyDocument } from "../export/document";
import { exportIpvsadm, exportKeepalived } from "../export/scripts";
import type { Policy } from "../policy/model";
import type { VirtualService } from "../policy/virtual-service";
import { emptyPolicy, importPolicy, type ImportResult } from "./index";

/**
 * Services chosen by the operator's firewall mark (ipvsadm -A -f, keepalived `virtual_server
 * fwmark`): imported with the mark read in the operator's bits, refused with the mark to use
 * instead when it lies in Gatehouse's own bits, and written back by both exports.
 */

const sample = (name: string) => readFileSync(join(__dirname, "__samples__", name), "utf8");
const line = (r: ImportResult, n: number) => r.lines.find((l) => l.line === n);

/** What an import and an export must agree on (ids, names and comments aside). */
const shape = (services: readonly VirtualService[] = []) =>
  services.map((v) => ({
    address: v.address,
    fwmark: v.fwmark,
    protocol: v.protocol,
    port: v.port,
    scheduler: v.scheduler,
    persistenceSeconds: v.persistenceSeconds,
    sorryServer: v.sorryServer,
    realServers: v.realServers,
    healthCheck: v.healthCheck.kind,
  }));

describe("ipvsadm fwmark services", () => {
  const r = importPolicy(sample("vs-fwmark.ipvsadm"), emptyPolicy(), { format: "ipvsadm" });

  it("imports -A -f / -a -f as services chosen by the mark, TCP and UDP", () => {
    expect(r.problems).toEqual([]);
    expect(shape(r.changes.virtualServices)).toEqual([
      {
        address: null,
        fwmark: { value: 0x10000000, mask: 0xf0000000 },
        protocol: "any",
        port: null,
        scheduler: "wrr",
        persistenceSeconds: 600,
        sorryServer: null,
        // port 0: each connection keeps the port it came to
        realServers: [
          { address: "100.64.10.2", port: null, weight: 1, mode: "nat", state: "enabled" },
          { address: "100.64.10.3", port: null, weight: 2, mode: "nat", state: "enabled" },
        ],
        healthCheck: "none",
      },
      {
        address: null,
        fwmark: { value: 0x20000000, mask: 0xf0000000 },
        protocol: "any",
        port: null,
        scheduler: "sh",
        persistenceSeconds: 0,
        sorryServer: null,
        // a real server's port: connections go to it, as IPVS sends them
        realServers: [
          { address: "100.64.10.5", port: 5353, weight: 1, mode: "nat", state: "enabled" },
          { address: "100.64.10.6", port: 5353, weight: 1, mode: "nat", state: "draining" },
        ],
        healthCheck: "none",
      },
    ]);
    expect(line(r, 4)?.message).toBe(
      'imported as virtual service "fwmark-0x10000000" (fwmark 0x10000000/0xf0000000, TCP and UDP, wrr, persistence 600 s; real servers 100.64.10.2 NAT weight 1, 100.64.10.3 NAT weight 2); no health check (ipvsadm has none)',
    );
    // hex marks, a leading ipvsadm and odd spacing read alike
    expect(line(r, 7)?.status).toBe("imported");
    expect(line(r, 6)).toMatchObject({ status: "merged" });
    expect(line(r, 18)?.message).toBe("the same service as line 4: the first one is kept");
    expect(line(r, 17)?.message).toMatch(/^lvs-snat's SNAT service \(fwmark 1\)/);
  });

  it("refuses a mark in Gatehouse's own bits, naming the mark to set instead, and direct routing", () => {
    expect(line(r, 12)?.message).toBe(
      "not imported because fwmark 3 (0x3) uses bits Gatehouse writes itself (0x0fffffff): a service chosen by fwmark reads the operator's mark in 0xf0000000. Have your own rules set the mark there (say 0x30000000: iptables -t mangle ... -j MARK --set-xmark 0x30000000/0xf0000000), name that mark (805306368) here and import again",
    );
    expect(line(r, 13)?.message).toMatch(/^not imported because it is a real server of fwmark service 3, which is not/);
    expect(line(r, 15)?.message).toBe(
      "not imported because real server 1 mode cannot be direct routing (DR) in a service chosen by fwmark: DR forwards packets at priority raw (-300), before the operator's rules can set the mark; use NAT",
    );
    expect(line(r, 16)?.message).toBe("not imported because its service (line 15) is not imported");
  });

  it("round-trips through the ipvsadm and keepalived exports and the YAML document", () => {
    const script = exportIpvsadm(r.policy);
    expect(script.text).toContain("-A -f 268435456 -s wrr -p 600\n-a -f 268435456 -r 100.64.10.2:0 -m -w 1");
    expect(script.text).toContain("-a -f 536870912 -r 100.64.10.6:5353 -m -w 0");
    expect(script.notExpressible).toEqual([]);
    const back = importPolicy(script.text, emptyPolicy(), { format: "ipvsadm" });
    expect(back.problems).toEqual([]);
    expect(shape(back.changes.virtualServices)).toEqual(shape(r.changes.virtualServices));

    const conf = exportKeepalived(r.policy);
    expect(conf.text).toContain("virtual_server fwmark 536870912 {");
    expect(conf.text).not.toMatch(/fwmark 536870912 \{[^}]*protocol/);
    const viaKeepalived = importPolicy(conf.text, emptyPolicy(), { format: "keepalived" });
    expect(viaKeepalived.problems).toEqual([]);
    expect(shape(viaKeepalived.changes.virtualServices)).toEqual(shape(r.changes.virtualServices));

    const yaml = writePolicyDocument(r.policy);
    expect(yaml).toContain("fwmark: 0x10000000/0xf0000000");
    const doc = readPolicyDocument(yaml);
    expect(doc.errors).toEqual([]);
    expect(shape(doc.policy.virtualServices)).toEqual(shape(r.changes.virtualServices));
  });

  it("lists a mask narrower than the operator's bits as not expressible: IPVS compares the whole mark", () => {
    const first = r.changes.virtualServices[0] as VirtualService;
    const narrow: Policy = {
      ...r.policy,
      virtualServices: [{ ...first, fwmark: { value: 0x10000000, mask: 0x10000000 } }],
    };
    expect(exportIpvsadm(narrow).notExpressible).toEqual([
      'virtual service "fwmark-0x10000000" matches fwmark 0x10000000/0x10000000; IPVS compares the whole mark: written as fwmark 268435456',
    ]);
  });
});

describe("keepalived virtual_server fwmark", () => {
  const r = importPolicy(sample("vs-fwmark.keepalived.conf"), emptyPolicy(), { fileName: "keepalived.conf" });

  it("imports the service with its real servers' ports, health check and sorry server", () => {
    expect(r.problems).toEqual([]);
    expect(shape(r.changes.virtualServices)).toEqual([
      {
        address: null,
        fwmark: { value: 0x10000000, mask: 0xf0000000 },
        protocol: "any",
        port: null,
        scheduler: "wrr",
        persistenceSeconds: 600,
        sorryServer: null,
        realServers: [
          { address: "100.64.10.2", port: 8080, weight: 1, mode: "nat", state: "enabled" },
          { address: "100.64.10.3", port: 8080, weight: 2, mode: "nat", state: "enabled" },
        ],
        healthCheck: "tcp",
      },
      {
        address: null,
        fwmark: { value: 0x20000000, mask: 0xf0000000 },
        protocol: "any",
        port: null,
        scheduler: "rr",
        persistenceSeconds: 0,
        sorryServer: { address: "100.64.10.9", port: null },
        realServers: [
          { address: "100.64.10.5", port: null, weight: 1, mode: "nat", state: "enabled" },
          { address: "100.64.10.6", port: null, weight: 1, mode: "nat", state: "enabled" },
        ],
        healthCheck: "none",
      },
    ]);
    expect(line(r, 3)?.message).toMatch(
      /^imported as virtual service "fwmark-0x10000000" \(fwmark 0x10000000\/0xf0000000, TCP and UDP, wrr, persistence 600 s; .*TCP check every 6000 ms$/,
    );
    expect(line(r, 8)?.message).toBe(
      "not imported: a service chosen by fwmark takes TCP and UDP, as IPVS does: the rule that sets the mark picks the protocols",
    );
    expect(line(r, 12)?.message).toBe('the port checked of virtual service "fwmark-0x10000000"');
    expect(line(r, 29)?.message).toBe('sorry server 100.64.10.9 of virtual service "fwmark-0x20000000"');
  });

  it("refuses every line of a service whose mark is Gatehouse's, or that routes directly", () => {
    for (let n = 37; n <= 42; n++)
      expect(line(r, n)?.message).toMatch(/^not imported because fwmark 2 \(0x2\) uses bits/);
    for (let n = 44; n <= 49; n++)
      expect(line(r, n)?.message).toMatch(/cannot be direct routing \(DR\) in a service chosen by fwmark/);
  });

  it("round-trips through the keepalived export, health check included", () => {
    const conf = exportKeepalived(r.policy);
    expect(conf.notExpressible).toEqual([]);
    expect(conf.text).toContain("virtual_server fwmark 268435456 {");
    expect(conf.text).toContain("    real_server 100.64.10.2 8080 {");
    expect(conf.text).toContain("    sorry_server 100.64.10.9 0");
    const back = importPolicy(conf.text, emptyPolicy(), { format: "keepalived" });
    expect(back.problems).toEqual([]);
    expect(back.changes.virtualServices.map((v) => ({ ...v, id: "", name: "", comment: "" }))).toEqual(
      r.changes.virtualServices.map((v) => ({ ...v, id: "", name: "", comment: "" })),
    );
  });

  it("refuses a second service on a mark one packet could carry with the first", () => {
    const text = `${sample("vs-fwmark.keepalived.conf")}\nvirtual_server fwmark 0x10000000 {\n    lb_kind NAT\n    real_server 100.64.10.4 0 {\n    }\n}\n`;
    const again = importPolicy(text, emptyPolicy(), { fileName: "keepalived.conf" });
    expect(again.lines.at(-2)?.message).toBe(
      'not imported because new virtual service "fwmark-0x10000000" is already chosen by fwmark 0x10000000/0xf0000000',
    );
  });
});
