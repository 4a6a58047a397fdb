import { describe, expect, it } from "vitest";
import { shareChains } from "./shared-chains";

/** Follows a list's chain and its gotos, returning the rules a packet would meet in order. */
function expand(result: ReturnType<typeof shareChains>, start: string | null): string[] {
  const out: string[] = [];
  let name = start;
  while (name !== null) {
    const chain = result.chains.find((c) => c.name === name);
    if (chain === undefined) throw new Error(`no chain ${name}`);
    out.push(...chain.rules);
    name = chain.next;
  }
  return out;
}

describe("shareChains", () => {
  it("keeps every list's rules in order", () => {
    const lists = [["a", "x", "y"], ["b", "x", "y"], ["x", "y"], ["a", "x", "y"], [], ["c"]];
    const r = shareChains(lists, (n) => `c${n}`);
    for (const [i, list] of lists.entries()) expect(expand(r, r.entryChain[i] ?? null)).toEqual(list);
    expect(r.entryChain[4]).toBeNull();
    // identical lists share a chain
    expect(r.entryChain[0]).toBe(r.entryChain[3]);
  });

  it("writes a shared tail once", () => {
    const tail = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const lists = Array.from({ length: 100 }, (_, i) => [`s${i}`, ...tail]);
    const r = shareChains(lists, (n) => `c${n}`);
    const total = r.chains.reduce((n, c) => n + c.rules.length, 0);
    expect(total).toBe(100 + 50);
    for (const [i, list] of lists.entries()) expect(expand(r, r.entryChain[i] ?? null)).toEqual(list);
  });

  it("copies tails in rather than nest deeper than maxHops", () => {
    // each list is the previous one plus one rule in front: a staircase of shared tails
    const lists = Array.from({ length: 20 }, (_, i) => Array.from({ length: i + 1 }, (_, k) => `r${i - k}`));
    const r = shareChains(lists, (n) => `c${n}`, 4);
    const hops = (name: string | null): number => {
      const c = r.chains.find((x) => x.name === name);
      return c === undefined ? 0 : 1 + hops(c.next);
    };
    for (const c of r.chains) expect(hops(c.name)).toBeLessThanOrEqual(4);
    for (const [i, list] of lists.entries()) expect(expand(r, r.entryChain[i] ?? null)).toEqual(list);
  });
});
