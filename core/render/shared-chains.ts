/**
 * Turns many rule lists into chains that share their common tails. Source segments usually hold a
 * few specific entries followed by the same broad ones (a /16 zone, a 0.0.0.0/0 catch-all); giving
 * every segment its own copy of the tail would repeat those rules once per segment. Here each
 * distinct tail becomes one chain that the longer lists reach with a `goto`, and identical lists
 * share one chain.
 */

export interface SharedChain {
  name: string;
  rules: string[];
  /** the chain this one continues in when none of its rules decided (a shared tail), else null */
  next: string | null;
}

interface Node {
  rule: string;
  parent: Node | null;
  children: Map<string, Node>;
  /** some list ends exactly here (the node is that whole list) */
  isList: boolean;
  chain: string | null;
}

export interface SharedChains {
  chains: SharedChain[];
  /** for each input list, the chain to jump to (null for an empty list) */
  entryChain: Array<string | null>;
}

export function shareChains(
  lists: readonly (readonly string[])[],
  nameOf: (n: number) => string,
  maxHops = 8,
): SharedChains {
  const root: Node = { rule: "", parent: null, children: new Map(), isList: false, chain: null };
  // walk each list from its end: a node is one suffix of one or more lists
  const ends: Array<Node | null> = lists.map((list) => {
    let node = root;
    for (let i = list.length - 1; i >= 0; i--) {
      const rule = list[i] as string;
      let child = node.children.get(rule);
      if (child === undefined) {
        child = { rule, parent: node, children: new Map(), isList: false, chain: null };
        node.children.set(rule, child);
      }
      node = child;
    }
    if (node === root) return null;
    node.isList = true;
    return node;
  });

  const needsChain = (n: Node) => n !== root && (n.isList || n.children.size > 1);
  const chains: SharedChain[] = [];
  const depth = new Map<string, number>();
  const byName = new Map<string, SharedChain>();
  const headAbove = (n: Node): Node | null => {
    let m = n.parent;
    while (m !== null && m !== root && !needsChain(m)) m = m.parent;
    return m === null || m === root ? null : m;
  };
  const build = (start: Node): string => {
    // iterative: the heads above a list can be as many as the list is long
    const pending: Node[] = [];
    for (let n: Node | null = start; n !== null && n.chain === null; n = headAbove(n)) pending.push(n);
    for (let i = pending.length - 1; i >= 0; i--) {
      const head = pending[i] as Node;
      const rules: string[] = [];
      const above = headAbove(head);
      for (let n: Node | null = head; n !== null && n !== above && n !== root; n = n.parent) rules.push(n.rule);
      let next = above?.chain ?? null;
      // the kernel refuses rulesets nested deeper than 16 chains: past maxHops, copy the tail in
      while (next !== null && (depth.get(next) ?? 0) >= maxHops) {
        const tail = byName.get(next) as SharedChain;
        rules.push(...tail.rules);
        next = tail.next;
      }
      const name = nameOf(chains.length + 1);
      const chain = { name, rules, next };
      head.chain = name;
      chains.push(chain);
      byName.set(name, chain);
      depth.set(name, next === null ? 1 : (depth.get(next) ?? 0) + 1);
    }
    return start.chain as string;
  };
  return { chains, entryChain: ends.map((n) => (n === null ? null : build(n))) };
}
