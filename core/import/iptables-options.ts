/**
 * The options of one iptables rule (the words after `-A CHAIN`), read once for every iptables
 * reader: the nat table's POSTROUTING rules, the CHROUTE redirects and the PREROUTING DNAT rules.
 * Each reader names the options and match modules it can express (its dialect); any other option
 * is refused with the reader's own words, so no reader silently ignores what it does not know.
 */

/** What an option is read into. */
export type OptionKey =
  | "src"
  | "dst"
  | "oif"
  | "iif"
  | "proto"
  | "target"
  | "toSource"
  | "toPorts"
  | "toDestination"
  | "dports"
  | "sports"
  | "mark"
  | "persistent"
  | "random"
  | "comment"
  | "gw"
  | "oldGw"
  | "mode"
  | "every"
  | "packet"
  | "probability";

/** Options that take no value: they are flags. */
const FLAG_KEYS = new Set<OptionKey>(["persistent", "random"]);

const ALIASES: Record<string, OptionKey> = {
  "-s": "src",
  "--source": "src",
  "--src": "src",
  "-d": "dst",
  "--destination": "dst",
  "--dst": "dst",
  "-o": "oif",
  "--out-interface": "oif",
  "-i": "iif",
  "--in-interface": "iif",
  "-p": "proto",
  "--protocol": "proto",
  "-j": "target",
  "--jump": "target",
  "--to-source": "toSource",
  "--to-ports": "toPorts",
  "--to-destination": "toDestination",
  "--dport": "dports",
  "--destination-port": "dports",
  "--dports": "dports",
  "--destination-ports": "dports",
  "--sport": "sports",
  "--source-port": "sports",
  "--sports": "sports",
  "--source-ports": "sports",
  "--ports": "sports",
  "--mark": "mark",
  "--persistent": "persistent",
  "--random": "random",
  "--random-fully": "random",
  "--comment": "comment",
  "--gw": "gw",
  "--new-gw": "gw",
  "--old-gw": "oldGw",
  "--mode": "mode",
  "--every": "every",
  "--packet": "packet",
  "--probability": "probability",
};

/** Options that may be given once only, with what a second one would mean. */
const ONCE: Partial<Record<OptionKey, string>> = {
  toSource: "several --to-source addresses cannot be expressed as one pool rule",
  toDestination: "several --to-destination addresses cannot be read as one real server",
  dports: "two destination port matches cannot be expressed as one rule",
};

export interface Dialect {
  /** what the rule becomes, for refusals: "a Gatehouse rule", "a virtual service" */
  becomes: string;
  /** the word before an unknown option's name: "option", "CHROUTE option" */
  optionWord: string;
  /** the options this reader reads; any other is refused */
  reads: ReadonlySet<OptionKey>;
  /** the match modules (-m) it can express */
  matches: readonly string[];
}

export interface RuleOptions {
  /** each option's value as written (lower-cased for -p); the last one when an option repeats */
  values: Partial<Record<OptionKey, string>>;
  /** the flags given (--persistent, --random) */
  flags: Set<OptionKey>;
  /** the option word each key was given by, e.g. "--random-fully" for random, "--sport" for sports */
  words: Partial<Record<OptionKey, string>>;
}

/** Reads the words after `-A CHAIN` in a reader's dialect; a reason (for "not imported because ...") when it cannot. */
export function readRuleOptions(ws: readonly string[], dialect: Dialect): RuleOptions | string {
  const out: RuleOptions = { values: {}, flags: new Set(), words: {} };
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i] as string;
    if (w === "!") return `the negation "! ${ws[i + 1] ?? ""}" cannot be expressed in ${dialect.becomes}`;
    if (/^\[\d+:\d+\]$/.test(w)) continue; // iptables-save -c counters
    if (w === "-m" || w === "--match") {
      const m = ws[++i] ?? "";
      if (!dialect.matches.includes(m)) return `the match module "${m}" cannot be expressed in ${dialect.becomes}`;
      continue;
    }
    const key = ALIASES[w];
    if (key === undefined || !dialect.reads.has(key)) {
      return `the ${dialect.optionWord} "${w}" cannot be expressed in ${dialect.becomes}`;
    }
    out.words[key] = w;
    if (FLAG_KEYS.has(key)) {
      out.flags.add(key);
      continue;
    }
    const once = ONCE[key];
    if (once !== undefined && out.values[key] !== undefined) return once;
    const v = ws[++i] ?? "";
    out.values[key] = key === "proto" ? v.toLowerCase() : v;
  }
  return out;
}
