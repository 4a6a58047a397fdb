import { isIPv4 } from "../address";
import { type Fwmark, OPERATOR_MARK_BITS, parseFwmark } from "../policy/match-criteria";
import type { RealServer, VsScheduler } from "../policy/virtual-service";
import { MAX_WEIGHT } from "../policy/virtual-service";

/**
 * What the ipvsadm, keepalived and iptables importers share about virtual services: scheduler
 * names, address:port words and weights.
 */

/**
 * IPVS schedulers as Gatehouse reads them. The least-connection ones have no equivalent (nftables
 * cannot count a server's connections when it picks one): lc and wlc are read as their
 * connection-blind twins rr and wrr, and the line says so; the others are refused.
 */
export function readScheduler(name: string): { scheduler: VsScheduler; note: string } | { reason: string } {
  const s = name.toLowerCase();
  switch (s) {
    case "rr":
    case "wrr":
    case "sh":
    case "dh":
    case "mh":
      return { scheduler: s, note: "" };
    case "lc":
      return {
        scheduler: "rr",
        note: "scheduler lc (least connections) read as rr (round robin): Gatehouse cannot count connections per server",
      };
    case "wlc":
      return {
        scheduler: "wrr",
        note: "scheduler wlc (weighted least connections) read as wrr (weighted round robin): Gatehouse cannot count connections per server",
      };
    default:
      return {
        reason: `the scheduler "${name}" has no equivalent (Gatehouse has rr, wrr, sh, dh, mh and random; lc and wlc are read as rr and wrr)`,
      };
  }
}

/** "a.b.c.d:port" (port 0..65535) or "a.b.c.d" (port undefined); null when it is neither. */
export function readHostPort(text: string): { address: string; port: number | undefined } | null {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m || !isIPv4(m[1] as string)) return null;
  if (m[2] === undefined) return { address: m[1] as string, port: undefined };
  const port = Number(m[2]);
  return port > 65_535 ? null : { address: m[1] as string, port };
}

export function readPort(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65_535 ? n : null;
}

/**
 * A weight as IPVS means it: 0 stops new connections (draining); the weight kept is then 1, so
 * the server takes its share again when it is enabled.
 */
export function readWeight(
  text: string | undefined,
): { weight: number; state: RealServer["state"]; note: string } | null {
  if (text === undefined) return { weight: 1, state: "enabled", note: "" };
  if (!/^\d{1,6}$/.test(text)) return null;
  const w = Number(text);
  if (w > MAX_WEIGHT) return null;
  if (w === 0)
    return {
      weight: 1,
      state: "draining",
      note: "weight 0 read as draining (no new connections; weight 1 when enabled again)",
    };
  return { weight: w, state: "enabled", note: "" };
}

/** Seconds as keepalived writes them ("6", "0.5") in milliseconds; null when not a number. */
export function secondsToMs(text: string | undefined): number | null {
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) return null;
  return Math.round(Number(text) * 1000);
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
const hex8 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;

/**
 * The mark of an fwmark service (ipvsadm -f, keepalived `virtual_server fwmark`): decimal or 0x
 * hex, read in the operator's bits as rules read a mark. IPVS setups usually mark with small
 * numbers (1, 2, ...), which lie in the bits Gatehouse writes itself: such a mark is refused with
 * the mark to use instead, since the rules that set it belong to the operator.
 */
export function readServiceMark(text: string): { mark: Fwmark } | { reason: string } {
  const t = text.trim();
  if (!/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(t) || Number(t) > 0xffffffff || Number(t) === 0) {
    return { reason: `fwmark "${text}" is not a mark 1..4294967295` };
  }
  const m = parseFwmark(t);
  if (m.ok) return { mark: m.value };
  const n = Number(t);
  const instead = n <= 15 ? (n << 28) >>> 0 : 0x10000000;
  return {
    reason: `fwmark ${t} (${hex(n)}) uses bits Gatehouse writes itself (${hex8(~OPERATOR_MARK_BITS)}): a service chosen by fwmark reads the operator's mark in ${hex8(OPERATOR_MARK_BITS)}. Have your own rules set the mark there (say ${hex(instead)}: iptables -t mangle ... -j MARK --set-xmark ${hex(instead)}/${hex8(OPERATOR_MARK_BITS)}), name that mark (${instead}) here and import again`,
  };
}
