import { z } from "zod";
import { GH_MASK } from "../spec/marks";
import { zInterfaceName } from "./fields";

/**
 * The match criteria a rule may add to source, destination, protocol and egress ISP
 * (docs/semantics.md, "Matching"): destination ports, input interfaces and an operator's
 * firewall mark. Field checks live here so that the forms, the API, the importers and the
 * agent's spec check give the same messages.
 */

export const MAX_PORT_ITEMS = 32;
export const MAX_IN_INTERFACES = 16;

export interface PortSpan {
  from: number;
  to: number;
}

/** "80" or "8000-8100" (iptables' "8000:8100" too): a span, or an error in words. */
export function parsePortSpan(text: string): { ok: true; value: PortSpan } | { ok: false; error: string } {
  const m = /^\s*(\d{1,5})\s*(?:[-:]\s*(\d{1,5})\s*)?$/.exec(text);
  if (m === null) return { ok: false, error: `"${text}" is not a port or a range such as 8000-8100` };
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  for (const n of [from, to]) {
    if (n < 1 || n > 65535) return { ok: false, error: `port ${n} is outside 1-65535` };
  }
  if (from > to) return { ok: false, error: `range ${from}-${to}: the first port must not be above the last` };
  return { ok: true, value: { from, to } };
}

export const formatPortSpan = (s: PortSpan) => (s.from === s.to ? `${s.from}` : `${s.from}-${s.to}`);

/** A destination port or range, stored as "80" or "8000-8100" (iptables' "8000:8100" is accepted). */
export const zPortSpan = z
  .string()
  .trim()
  .superRefine((s, ctx) => {
    const r = parsePortSpan(s);
    if (!r.ok) ctx.addIssue({ code: "custom", message: r.error });
  })
  .overwrite((s) => {
    const r = parsePortSpan(s);
    return r.ok ? formatPortSpan(r.value) : s;
  });

export const zDstPorts = z
  .array(zPortSpan)
  .max(MAX_PORT_ITEMS, `at most ${MAX_PORT_ITEMS} ports or ranges`)
  .superRefine((list, ctx) => {
    const spans = list.map(parsePortSpan).flatMap((r) => (r.ok ? [r.value] : []));
    if (spans.length !== list.length) return;
    const sorted = [...spans].sort((a, b) => a.from - b.from);
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1] as PortSpan, sorted[i] as PortSpan];
      if (b.from <= a.to) {
        ctx.addIssue({ code: "custom", message: `${formatPortSpan(a)} and ${formatPortSpan(b)} overlap` });
        return;
      }
    }
  });

/**
 * The mark bits an operator's own rules may set for Gatehouse to match: Gatehouse writes only
 * GH_MASK (marks.ts), so these are never overwritten before the classifier reads them.
 */
export const OPERATOR_MARK_BITS = ~GH_MASK >>> 0;

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** An operator's firewall mark: the packet matches when `mark & mask == value`. */
export const zFwmark = z
  .object({
    value: z.number().int("must be a whole number").min(0, "must be 0 or more").max(0xffffffff, "must fit in 32 bits"),
    mask: z.number().int("must be a whole number").min(1, "must not be 0").max(0xffffffff, "must fit in 32 bits"),
  })
  .superRefine((m, ctx) => {
    const u32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
    if (!u32(m.value) || !u32(m.mask)) return;
    if ((m.mask & GH_MASK) >>> 0 !== 0) {
      ctx.addIssue({
        code: "custom",
        path: ["mask"],
        message: `uses bits Gatehouse writes itself (${hex(GH_MASK)}): an operator's mark must be in ${hex(OPERATOR_MARK_BITS)}`,
      });
    } else if ((m.value & ~m.mask) >>> 0 !== 0) {
      ctx.addIssue({ code: "custom", path: ["value"], message: `has bits outside the mask ${hex(m.mask)}` });
    }
  });
export type Fwmark = z.infer<typeof zFwmark>;

export const formatFwmark = (m: Fwmark) => `${hex(m.value)}/${hex(m.mask)}`;

/**
 * "0x10000000/0xf0000000" or decimal, as iptables' --mark writes it. A value without a mask is
 * read under all the operator's bits (OPERATOR_MARK_BITS), not all 32: the other bits are
 * Gatehouse's and hold its own numbers by the time the classifier looks.
 */
export function parseFwmark(text: string): { ok: true; value: Fwmark } | { ok: false; error: string } {
  const m = /^\s*(0x[0-9a-f]+|\d+)\s*(?:\/\s*(0x[0-9a-f]+|\d+)\s*)?$/i.exec(text);
  if (m === null) return { ok: false, error: `"${text}" is not a mark such as 0x10000000/0xf0000000` };
  const value = Number(m[1]);
  const mask = m[2] === undefined ? OPERATOR_MARK_BITS : Number(m[2]);
  if (value > 0xffffffff || mask > 0xffffffff) return { ok: false, error: "must fit in 32 bits" };
  const r = zFwmark.safeParse({ value, mask });
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, error: `${String(issue?.path[0] ?? "mark")} ${issue?.message ?? "is invalid"}` };
  }
  return { ok: true, value: r.data };
}

export const zInInterfaces = z
  .array(zInterfaceName)
  .max(MAX_IN_INTERFACES, `at most ${MAX_IN_INTERFACES} interfaces`)
  .refine((l) => new Set(l).size === l.length, "lists an interface twice");

/**
 * The criteria fields of a rule (and, unchanged, of a spec entry). Each may be absent, which
 * means "any": rules, revisions and specs written before the criteria existed read unchanged.
 */
export const zMatchCriteria = {
  /** destination ports and ranges; empty: any. Only with protocol tcp or udp. */
  dstPorts: zDstPorts.optional(),
  /** the interfaces the connection comes in by (cluster-wide names, like ISP interfaces); empty: any */
  inInterfaces: zInInterfaces.optional(),
  /** an operator's firewall mark; null: any */
  fwmark: zFwmark.nullable().optional(),
};

export interface MatchCriteria {
  dstPorts?: readonly string[] | undefined;
  inInterfaces?: readonly string[] | undefined;
  fwmark?: Fwmark | null | undefined;
}

/** The criteria with "any" spelled out: the shape forms and documents work with. */
export function criteriaOf(c: MatchCriteria): { dstPorts: string[]; inInterfaces: string[]; fwmark: Fwmark | null } {
  return { dstPorts: [...(c.dstPorts ?? [])], inInterfaces: [...(c.inInterfaces ?? [])], fwmark: c.fwmark ?? null };
}

/** Only the criteria that are set, copied: what specs, rows and documents hold ("any" is absent). */
export function setCriteria(c: MatchCriteria): { dstPorts?: string[]; inInterfaces?: string[]; fwmark?: Fwmark } {
  const { dstPorts, inInterfaces, fwmark } = criteriaOf(c);
  return {
    ...(dstPorts.length > 0 ? { dstPorts } : {}),
    ...(inInterfaces.length > 0 ? { inInterfaces } : {}),
    ...(fwmark !== null ? { fwmark: { ...fwmark } } : {}),
  };
}

/** How many of the further criteria a rule sets: more specific rules come first among equals. */
export function criteriaCount(c: MatchCriteria): number {
  const { dstPorts, inInterfaces, fwmark } = criteriaOf(c);
  return (inInterfaces.length > 0 ? 1 : 0) + (dstPorts.length > 0 ? 1 : 0) + (fwmark !== null ? 1 : 0);
}

export function portSpans(list: readonly string[] = []): PortSpan[] {
  return list.map(parsePortSpan).flatMap((r) => (r.ok ? [r.value] : []));
}

export function portMatches(list: readonly string[] = [], port: number | undefined): boolean {
  if (list.length === 0) return true;
  if (port === undefined) return false;
  return portSpans(list).some((s) => port >= s.from && port <= s.to);
}

export function interfaceMatches(list: readonly string[] = [], iif: string | undefined): boolean {
  return list.length === 0 || (iif !== undefined && list.includes(iif));
}

export function markMatches(m: Fwmark | null | undefined, mark: number | undefined): boolean {
  if (m === null || m === undefined) return true;
  return ((mark ?? 0) & m.mask) >>> 0 === m.value >>> 0;
}
