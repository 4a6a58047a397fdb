import type { Lab } from "../../testkit/lab/lab";

/**
 * Named nft counters in a benchmark's own table (`inet bench`) inside one lab namespace: each
 * rule counts and drops what it matches at prerouting, so the sink answers nothing (no replies,
 * no ICMP errors). Returns a reader and a reset.
 */
export async function installCounters(
  lab: Lab,
  ns: string,
  rules: ReadonlyArray<{ name: string; match: string }>,
): Promise<{ read(): Promise<Record<string, number>>; reset(): Promise<void> }> {
  await lab.must(ns, ["nft", "-f", "-"], {
    input: [
      "add table inet bench",
      ...rules.map((r) => `add counter inet bench ${r.name}`),
      "add chain inet bench pre { type filter hook prerouting priority -300; policy accept; }",
      ...rules.map((r) => `add rule inet bench pre ${r.match} counter name ${r.name} drop`),
      "",
    ].join("\n"),
  });
  return {
    async read() {
      const out = await lab.must(ns, ["nft", "-j", "list", "counters", "table", "inet", "bench"]);
      const doc = JSON.parse(out) as { nftables: Array<{ counter?: { name: string; packets: number } }> };
      return Object.fromEntries(
        rules.map((r) => [r.name, doc.nftables.find((x) => x.counter?.name === r.name)?.counter?.packets ?? 0]),
      );
    },
    async reset() {
      await lab.must(ns, ["nft", "reset", "counters", "table", "inet", "bench"]);
    },
  };
}
