import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readPolicyDocument, writePolicyDocument } from "../export/document";
import { exportIpvsadm } from "../export/scripts";
import { zPolicy, type Policy } from "../policy/model";
import { emptyPolicy, importPolicy, type ImportResult } from "./index";

/**
 * iptables CHROUTE (lvs-snat's next-hop redirect): traffic that would leave through the old
 * gateway goes through the new one. It becomes a rule with that egress and a redirect, translated
 * as the nat table translates the traffic where it now leaves.
 */

const text = readFileSync(join(__dirname, "__samples__", "chroute.iptables-save"), "utf8");

function twoIsps(): Policy {
  const isp = (id: string, index: number, name: string, iface: string, nextHop: string) => ({
    id,
    index,
    name,
    interface: iface,
    nextHop,
  });
  return zPolicy.parse({
    ...emptyPolicy(),
    isps: [isp("isp-telia", 1, "telia", "eth1", "198.51.100.1"), isp("isp-cogent", 2, "cogent", "eth2", "203.0.113.1")],
  });
}
const line = (r: ImportResult, n: number) => r.lines.find((l) => l.line === n);

describe("iptables CHROUTE", () => {
  const r = importPolicy(text, twoIsps());

  it("says what every line became", () => {
    expect(r.lines).toHaveLength(text.replace(/\n$/, "").split("\n").length);
    expect(line(r, 4)).toMatchObject({ status: "imported" });
    expect(line(r, 4)?.message).toContain(
      "traffic from 100.64.128.0/20 that would leave through telia (old gw 198.51.100.1) goes through cogent (gw 203.0.113.1), translated as the POSTROUTING rule of line 14 translates it there",
    );
    expect(line(r, 5)).toMatchObject({ status: "imported" });
    expect(line(r, 5)?.changed).toContain("non-breaking or special spaces replaced by spaces");
    expect(line(r, 6)?.message).toBe(
      'not imported because --old-gw and --gw are both ISP "cogent": nothing is redirected',
    );
    expect(line(r, 7)).toMatchObject({ status: "question" });
    expect(line(r, 8)?.message).toBe("not imported because the CHROUTE line names no new gateway (--gw)");
    expect(line(r, 9)?.message).toBe(
      'not imported because the match module "mark" cannot be expressed in a Gatehouse rule',
    );
    expect(line(r, 10)?.message).toBe(
      'not imported because the CHROUTE option "--oif" cannot be expressed in a Gatehouse rule',
    );
    expect(r.questions.map((q) => q.prompt)).toEqual([
      "Next hop 100.127.0.1 is not an ISP of this cluster yet: through which interface is it reached?",
    ]);
  });

  it("makes rules with the old gateway's ISP as egress and a redirect, ahead of the nat rules", () => {
    const cogentPool = r.changes.pools.find((p) => p.addresses[0] === "203.0.113.10-203.0.113.13");
    const rules = [...r.changes.rules].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
    expect(rules.map((x) => [x.source, x.egressIspId, x.redirectIspId, x.protocol, x.action])).toEqual([
      [
        { kind: "cidrs", cidrs: ["100.64.128.0/20"] },
        "isp-telia",
        "isp-cogent",
        "any",
        { type: "snat", poolId: cogentPool?.id, algorithm: "sh" },
      ],
      [
        { kind: "cidrs", cidrs: ["100.64.130.0/24"] },
        null,
        "isp-cogent",
        "udp",
        { type: "snat", poolId: cogentPool?.id, algorithm: "sh" },
      ],
      [
        { kind: "cidrs", cidrs: ["100.64.0.0/16"] },
        "isp-cogent",
        null,
        "any",
        expect.objectContaining({ type: "snat" }),
      ],
      [
        { kind: "cidrs", cidrs: ["100.64.0.0/16"] },
        "isp-telia",
        null,
        "any",
        expect.objectContaining({ type: "snat" }),
      ],
    ]);
    expect(rules[0]?.comment).toBe("guests via cogent");
    expect(r.problems).toEqual([]);
  });

  it("answers the question: a new gateway with no nat rule for it is not imported, and says why", () => {
    const answered = importPolicy(text, twoIsps(), { answers: { "interface:100.127.0.1": "wwan0" } });
    expect(line(answered, 7)?.message).toBe(
      "not imported because no POSTROUTING rule here says how traffic from 100.64.150.0/24 leaving through wwan0 (gw 100.127.0.1) is translated; import that SNAT rule with it, or set a rule's redirect by hand",
    );
  });

  it("round-trips through lvs-snat's ipvsadm -N new_gw where expressible, and through the YAML document", () => {
    const redirects = (rules: Policy["rules"]) =>
      rules
        .filter((x) => x.redirectIspId !== null)
        .map((x) => [x.source, x.egressIspId, x.redirectIspId, x.protocol])
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const script = exportIpvsadm(r.policy);
    expect(script.text).toContain(
      "-K -F 100.64.128.0/20 -T 0.0.0.0/0 -W 198.51.100.1 --oif eth1 -U 203.0.113.10-203.0.113.13 -O sh -N 203.0.113.1",
    );
    // lvs-snat rules match every protocol: the udp-only redirect is listed as not expressible
    expect(script.notExpressible.join("\n")).toContain(`"CHROUTE line 5" matches udp only`);
    const back = importPolicy(script.text, twoIsps());
    expect(redirects(back.changes.rules)).toEqual(redirects(r.changes.rules.filter((x) => x.protocol === "any")));

    const doc = readPolicyDocument(writePolicyDocument(r.policy), { existing: twoIsps() });
    expect(doc.errors).toEqual([]);
    expect(redirects(doc.policy.rules)).toEqual(redirects(r.changes.rules));
  });
});
