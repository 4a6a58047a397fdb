import { describe, expect, it } from "vitest";
import { type Dialect, readRuleOptions } from "./iptables-options";

const nat: Dialect = {
  becomes: "a Gatehouse rule",
  optionWord: "option",
  reads: new Set(["src", "dst", "oif", "proto", "target", "toSource", "dports", "persistent", "random", "comment"]),
  matches: ["comment", "tcp", "multiport"],
};
const words = (line: string) => line.split(/\s+/);

describe("reading an iptables rule's options", () => {
  it("reads long and short spellings into one value each, flags, and skips iptables-save -c counters", () => {
    const o = readRuleOptions(
      words(
        "[12:3456] --source 100.64.0.0/16 -d 192.0.2.0/24 -p TCP -m tcp --destination-port 443 -m comment --comment web -o eth1 -j SNAT --to-source 198.51.100.10 --persistent --random-fully",
      ),
      nat,
    );
    if (typeof o === "string") throw new Error(o);
    expect(o.values).toEqual({
      src: "100.64.0.0/16",
      dst: "192.0.2.0/24",
      proto: "tcp",
      dports: "443",
      comment: "web",
      oif: "eth1",
      target: "SNAT",
      toSource: "198.51.100.10",
    });
    expect([...o.flags]).toEqual(["persistent", "random"]);
    expect(o.words.random).toBe("--random-fully");
  });

  it("refuses what the dialect cannot express, in its own words", () => {
    expect(readRuleOptions(words("! -s 10.0.0.0/8 -j RETURN"), nat)).toBe(
      'the negation "! -s" cannot be expressed in a Gatehouse rule',
    );
    expect(readRuleOptions(words("-m conntrack --ctstate NEW"), nat)).toBe(
      'the match module "conntrack" cannot be expressed in a Gatehouse rule',
    );
    // known to another reader, not to this one
    expect(readRuleOptions(words("-s 10.0.0.0/8 --gw 203.0.113.1"), nat)).toBe(
      'the option "--gw" cannot be expressed in a Gatehouse rule',
    );
    const chroute: Dialect = { ...nat, optionWord: "CHROUTE option", reads: new Set(["src", "gw"]) };
    expect(readRuleOptions(words("-s 10.0.0.0/8 --oif eth2"), chroute)).toBe(
      'the CHROUTE option "--oif" cannot be expressed in a Gatehouse rule',
    );
    const dnat: Dialect = { ...nat, becomes: "a virtual service" };
    expect(readRuleOptions(words("-m statistic --mode nth"), dnat)).toBe(
      'the match module "statistic" cannot be expressed in a virtual service',
    );
  });

  it("refuses a second --to-source or port match instead of keeping one of them", () => {
    expect(readRuleOptions(words("-j SNAT --to-source 198.51.100.10 --to-source 198.51.100.11"), nat)).toBe(
      "several --to-source addresses cannot be expressed as one pool rule",
    );
    expect(readRuleOptions(words("-p tcp --dport 80 -m multiport --dports 443,8443"), nat)).toBe(
      "two destination port matches cannot be expressed as one rule",
    );
  });
});
