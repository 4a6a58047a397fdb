import { describe, expect, it } from "vitest";
import { exportIptables, exportIpvsadm } from "../export/scripts";
import type { Policy } from "../policy/model";
import { emptyPolicy, importPolicy } from "./index";

/** Destination ports, input interfaces and marks in iptables and lvs-snat rules, both ways. */

const answers = { "nextHop:eth1": "198.51.100.1" };
const nat = (...rules: string[]) => ["*nat", ":POSTROUTING ACCEPT [0:0]", ...rules, "COMMIT", ""].join("\n");
const messages = (text: string) => importPolicy(text, emptyPolicy(), { answers }).lines.map((l) => l.message);

describe("iptables import of the further criteria", () => {
  it("reads --dport N[:M], multiport --dports, -i and -m mark --mark V[/M]", () => {
    const r = importPolicy(
      nat(
        "-A POSTROUTING -s 10.1.0.0/16 -i lan1 -p tcp -m tcp --dport 8000:8100 -o eth1 -j SNAT --to-source 192.0.2.10",
        "-A POSTROUTING -s 10.1.0.0/16 -p udp -m multiport --dports 53,5353,6000:6010 -o eth1 -j SNAT --to-source 192.0.2.10",
        "-A POSTROUTING -s 10.2.0.0/16 -m mark --mark 0x10000000/0x30000000 -o eth1 -j RETURN",
        "-A POSTROUTING -s 10.3.0.0/16 -m mark --mark 0x20000000 -o eth1 -j RETURN",
      ),
      emptyPolicy(),
      { answers },
    );
    expect(r.problems).toEqual([]);
    const rules = r.changes.rules;
    expect(rules.map((x) => [x.protocol, x.dstPorts, x.inInterfaces, x.fwmark])).toEqual([
      ["tcp", ["8000-8100"], ["lan1"], undefined],
      ["udp", ["53", "5353", "6000-6010"], undefined, undefined],
      ["any", undefined, undefined, { value: 0x10000000, mask: 0x30000000 }],
      // a mark without a mask is read under the operator's bits
      ["any", undefined, undefined, { value: 0x20000000, mask: 0xf0000000 }],
    ]);
    expect(r.lines.find((l) => l.line === 3)?.message).toMatch(/tcp port 8000-8100 in by lan1 leaving via/);
  });

  it("says why a criterion cannot be imported, and imports nothing of that line", () => {
    const m = messages(
      nat(
        "-A POSTROUTING -s 10.1.0.0/16 --dport 80 -o eth1 -j RETURN",
        "-A POSTROUTING -s 10.1.0.0/16 -p tcp --sport 80 -o eth1 -j RETURN",
        "-A POSTROUTING -s 10.1.0.0/16 -i lan+ -o eth1 -j RETURN",
        "-A POSTROUTING -s 10.1.0.0/16 -m mark --mark 0x1/0xff -o eth1 -j RETURN",
        "-A POSTROUTING -s 10.1.0.0/16 -p tcp --dport 70000 -o eth1 -j RETURN",
        "-A POSTROUTING -s 10.1.0.0/16 -p tcp --dport 90:80 -o eth1 -j RETURN",
      ),
    );
    expect(m.slice(2, 8)).toEqual([
      "not imported because a port match needs -p tcp or -p udp",
      "not imported because a source port match (--sport) cannot be expressed: Gatehouse rules match destination ports only",
      'not imported because the interface pattern "lan+" cannot be expressed: name each interface',
      expect.stringMatching(/^not imported because --mark 0x1\/0xff: mask uses bits Gatehouse writes itself/),
      "not imported because the destination port port 70000 is outside 1-65535",
      "not imported because the destination port range 90-80: the first port must not be above the last",
    ]);
  });

  it("exports them as iptables-save and reads back the same rules", () => {
    const text = nat(
      "-A POSTROUTING -s 10.1.0.0/16 -i lan1 -p tcp --dport 443 -o eth1 -j SNAT --to-source 192.0.2.10",
      "-A POSTROUTING -s 10.1.0.0/16 -p udp -m multiport --dports 53,6000:6010 -m mark --mark 0x10000000/0xf0000000 -o eth1 -j RETURN",
    );
    const first = importPolicy(text, emptyPolicy(), { answers });
    expect(first.problems).toEqual([]);
    const out = exportIptables(first.policy);
    expect(out.text).toContain("-A POSTROUTING -s 10.1.0.0/16 -i lan1 -p tcp --dport 443 -o eth1");
    expect(out.text).toContain(
      "-A POSTROUTING -s 10.1.0.0/16 -p udp -m multiport --dports 53,6000:6010 -m mark --mark 0x10000000/0xf0000000 -o eth1",
    );
    const again = importPolicy(out.text, emptyPolicy(), { answers });
    const shape = (p: Policy) =>
      p.rules.map((x) => [x.protocol, x.dstPorts, x.inInterfaces, x.fwmark, x.action.type, x.source]);
    expect(shape(again.policy)).toEqual(shape(first.policy));
  });

  it("writes one line per input interface, and leaves out what multiport cannot hold", () => {
    const base = importPolicy(
      nat("-A POSTROUTING -s 10.1.0.0/16 -p tcp --dport 443 -o eth1 -j RETURN"),
      emptyPolicy(),
      { answers },
    ).policy;
    const rule = base.rules[0] as Policy["rules"][0];
    const two: Policy = { ...base, rules: [{ ...rule, inInterfaces: ["lan1", "lan2"] }] };
    expect(exportIptables(two).text.match(/-i lan\d/g)).toEqual(["-i lan1", "-i lan2"]);
    const many: Policy = {
      ...base,
      rules: [{ ...rule, dstPorts: Array.from({ length: 8 }, (_, i) => `${i * 10 + 1}-${i * 10 + 2}`) }],
    };
    const out = exportIptables(many);
    expect(out.text).not.toContain("--dports");
    expect(out.notExpressible.join("\n")).toMatch(/more than multiport's 15 ports/);
  });
});

describe("lvs-snat fwmark services", () => {
  const lines = (...extra: string[]) =>
    [
      "ipvsadm -A -f 1 -s snat_sched",
      "ipvsadm -K -F 10.1.0.0/16 -W 198.51.100.1 --oif eth1 -U 192.0.2.10-192.0.2.12 -O sh -f 1",
      ...extra,
    ].join("\n");

  it("one SNAT service: its mark only brings traffic to lvs-snat, so no criterion", () => {
    const r = importPolicy(lines(), emptyPolicy());
    expect(r.problems).toEqual([]);
    expect(r.changes.rules[0]?.fwmark).toBeUndefined();
    expect(r.lines[1]?.message).toMatch(/fwmark 1 only brings traffic to lvs-snat's one SNAT service/);
  });

  it("several services told apart by marks in the operator's bits become fwmark criteria", () => {
    const r = importPolicy(
      [
        "ipvsadm -K -F 10.1.0.0/16 -W 198.51.100.1 --oif eth1 -U 192.0.2.10-192.0.2.12 -O sh -f 0x10000000",
        "ipvsadm -K -F 10.1.0.0/16 -W 198.51.100.1 --oif eth1 -U 192.0.2.20-192.0.2.22 -O sh -f 0x20000000",
      ].join("\n"),
      emptyPolicy(),
    );
    expect(r.problems).toEqual([]);
    expect(r.changes.rules.map((x) => x.fwmark)).toEqual([
      { value: 0x10000000, mask: 0xf0000000 },
      { value: 0x20000000, mask: 0xf0000000 },
    ]);
  });

  it("marks in Gatehouse's bits are refused with the way out", () => {
    const r = importPolicy(
      lines("ipvsadm -K -F 10.2.0.0/16 -W 198.51.100.1 --oif eth1 -U 192.0.2.20 -f 2"),
      emptyPolicy(),
    );
    expect(r.changes.rules).toEqual([]);
    expect(r.lines[2]?.message).toMatch(
      /not imported because its SNAT service's mark -f 2 .* in bits 0xf0000000 only \(value has bits outside the mask 0xf0000000\): have your own rules set the mark there/,
    );
  });

  it("the lvs-snat export lists rules with further criteria as not expressible", () => {
    const r = importPolicy(
      nat("-A POSTROUTING -s 10.1.0.0/16 -p tcp --dport 443 -o eth1 -j SNAT --to-source 192.0.2.10"),
      emptyPolicy(),
      { answers },
    );
    const out = exportIpvsadm({ ...r.policy, rules: r.policy.rules.map((x) => ({ ...x, protocol: "any" })) });
    expect(out.notExpressible.join("\n")).toMatch(/matches destination ports, an input interface or a fwmark/);
  });
});
