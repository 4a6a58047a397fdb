import type { Policy } from "../policy/model";
import { PolicyBuilder } from "./builder";
import { importIptables } from "./iptables";
import { importIpvsadm } from "./ipvsadm";
import { importKeepalived } from "./keepalived";
import { checkInput, sourceLines } from "./text";
import type { ImportFormat, ImportOptions, ImportResult } from "./types";
import { standaloneHa } from "../policy/ha";

export * from "./types";

/** Guesses the format from the text; null when nothing says which. */
export function detectFormat(text: string): ImportFormat | null {
  const sample = text.slice(0, 200_000);
  if (/^\s*\*nat\b|^\s*(-A|--append)\s+(POSTROUTING|PREROUTING)\b|^\s*(sudo\s+)?\S*iptables\S*\s/m.test(sample))
    return "iptables";
  if (/^\s*(sudo\s+)?\S*ipvsadm\S*(\s|$)|^\s*-[AaKPC]\s/m.test(sample)) return "ipvsadm";
  if (/[{}]/.test(sample) || /^\s*include\s+\S/m.test(sample)) return "keepalived";
  return null;
}

/** The empty policy an import without a cluster (a dry run) adds to. */
export function emptyPolicy(): Policy {
  return {
    settings: {
      unmatched: "drop",
      hashSeed: 0,
      lanInterfaces: [],
      internalInterfaces: [],
      ha: standaloneHa(),
      gateways: [],
    },
    isps: [],
    pools: [],
    zones: [],
    rules: [],
  };
}

/**
 * Reads configuration text into entities added to `existing`. Throws ImportError for input that
 * cannot be read at all (binary, too big, include loops or includes outside the directory); every
 * other problem is a line result, a question, or a problem of the resulting policy.
 */
export function importPolicy(text: string, existing: Policy, opts: ImportOptions = {}): ImportResult {
  checkInput(text);
  const format = opts.format ?? detectFormat(text);
  const notes: string[] = [];
  const b = new PolicyBuilder(existing, opts, notes);
  if (format === null) {
    const lines = sourceLines(text, "", notes);
    b.addLines(lines);
    for (const l of lines) b.say(l, "not-imported", "not imported because the format was not recognised: choose it");
    notes.push("The format was not recognised: choose ipvsadm, iptables or keepalived");
    return b.build("ipvsadm");
  }
  switch (format) {
    case "ipvsadm":
      importIpvsadm(b, sourceLines(text, "", notes));
      break;
    case "iptables":
      importIptables(b, sourceLines(text, "", notes));
      break;
    case "keepalived":
      importKeepalived(b, text, opts, notes);
      break;
  }
  return b.build(format);
}
