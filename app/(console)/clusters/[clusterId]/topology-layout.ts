import type { Topology, TopologyGateway, TopologyIsp, TopologyLink } from "@/server/services/failover/topology";

/**
 * Where the overview's picture puts each element, and how each link looks: pure, so the page and
 * its test agree. Four columns, left to right as traffic flows: LAN networks, gateways, ISPs, the
 * internet; each column centred on the tallest one.
 */

export interface Box {
  id: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LanBox extends Box {
  title: string;
  lines: string[];
  page: "zones" | "settings";
}

export interface TopologyLayout {
  width: number;
  height: number;
  lans: LanBox[];
  gateways: Array<Box & { gateway: TopologyGateway }>;
  isps: Array<Box & { isp: TopologyIsp; lines: IspLine[] }>;
  internet: Box;
}

const PAD = 12;
const GAP = 16;
const LINE = 16;
export const COLUMNS = {
  lan: { x: PAD, w: 200 },
  gw: { x: 280, w: 180 },
  isp: { x: 540, w: 260 },
  net: { w: 110 },
};
/** an estimate of the width of one character of the picture's small text, px */
const CHAR_PX = 6.8;
const MAX_ISP_W = 520;
const MAX_NETWORKS = 3;

function stack<T extends { h: number }>(items: T[], height: number): Array<T & { y: number }> {
  const total = items.reduce((s, i) => s + i.h, 0) + GAP * Math.max(0, items.length - 1);
  let y = PAD + (height - 2 * PAD - total) / 2;
  return items.map((i) => {
    const out = { ...i, y };
    y += i.h + GAP;
    return out;
  });
}

function lanBoxes(t: Topology): Array<Omit<LanBox, "x" | "y" | "w">> {
  if (t.lans.length > 0) {
    return t.lans.map((z) => {
      const shown = z.networks.slice(0, MAX_NETWORKS);
      const more = z.networks.length - shown.length;
      const lines = more > 0 ? [...shown, `and ${more} more`] : shown;
      return { id: z.id, title: `LAN ${z.name}`, lines, page: "zones" as const, h: 28 + LINE * lines.length };
    });
  }
  if (t.lanInterfaces.length > 0) {
    return t.lanInterfaces.map((name) => ({
      id: `if:${name}`,
      title: `LAN ${name}`,
      lines: ["interface"],
      page: "settings" as const,
      h: 28 + LINE,
    }));
  }
  return [{ id: "lan", title: "LAN", lines: ["no zone defined"], page: "zones", h: 28 + LINE }];
}

export const ispBoxHeight = (isp: TopologyIsp) => 46 + LINE * (isp.links.length + isp.pools.length);

export interface IspLine {
  key: string;
  text: string;
  tone: Tone;
}

/** The lines an ISP's box says under its name: its state, each gateway's link, each pool. */
export function ispLines(isp: TopologyIsp, gateways: readonly TopologyGateway[]): IspLine[] {
  const byId = new Map(gateways.map((g) => [g.id, g]));
  const conns = connectionsText(isp.connections);
  const tone: Tone = isp.operatorFailover ? "danger" : isp.failedOver ? "warn" : "ok";
  return [
    { key: "state", text: `${isp.failedOver ? "⇢ " : ""}${ispText(isp)}${conns ? ` · ${conns}` : ""}`, tone },
    ...isp.links.map((l) => {
      const g = byId.get(l.gatewayId);
      const look = g ? linkLook(l, g) : { text: "no report", tone: "muted" as Tone };
      const c = connectionsText(l.connections);
      return { key: l.gatewayId, tone: look.tone, text: `${g?.name ?? "?"}: ${look.text}${c ? ` · ${c}` : ""}` };
    }),
    ...isp.pools.map((p) => ({ key: p.id, text: poolText(p), tone: "muted" as Tone })),
  ];
}

export function layoutTopology(t: Topology): TopologyLayout {
  const lans = lanBoxes(t);
  const gws = t.gateways.map((g) => ({ id: g.id, gateway: g, h: 58 }));
  const isps = t.isps.map((i) => ({ id: i.id, isp: i, lines: ispLines(i, t.gateways), h: ispBoxHeight(i) }));
  const longest = Math.max(0, ...isps.flatMap((i) => i.lines.map((l) => l.text.length)));
  const ispW = Math.min(MAX_ISP_W, Math.max(COLUMNS.isp.w, Math.ceil(20 + longest * CHAR_PX)));
  const columnHeight = (items: { h: number }[]) =>
    items.reduce((s, i) => s + i.h, 0) + GAP * Math.max(0, items.length - 1) + 2 * PAD;
  const height = Math.max(120, columnHeight(lans), columnHeight(gws), columnHeight(isps));
  const net = { x: COLUMNS.isp.x + ispW + 60, w: COLUMNS.net.w };
  return {
    width: net.x + net.w + PAD,
    height,
    lans: stack(lans, height).map((b) => ({ ...b, x: COLUMNS.lan.x, w: COLUMNS.lan.w })),
    gateways: stack(gws, height).map((b) => ({ ...b, x: COLUMNS.gw.x, w: COLUMNS.gw.w })),
    isps: stack(isps, height).map((b) => ({ ...b, x: COLUMNS.isp.x, w: ispW })),
    internet: { id: "internet", x: net.x, y: height / 2 - 30, w: net.w, h: 60 },
  };
}

export type Tone = "ok" | "warn" | "danger" | "muted";

/** How one gateway's link to an ISP is drawn and said: never by color alone (words and dashes too). */
export function linkLook(link: TopologyLink, gateway: TopologyGateway): { text: string; tone: Tone; dash: string } {
  if (!gateway.online) return { text: "gateway offline", tone: "muted", dash: "2 4" };
  if (link.via !== null) {
    const how = link.via.mode === "automatic" ? "failed over" : "failed over by an operator";
    return { text: `${link.state ?? "no report"}, ${how} to ${link.via.name}`, tone: "warn", dash: "8 4" };
  }
  if (link.state === null || link.state === "unknown")
    return { text: link.state ?? "no report", tone: "muted", dash: "2 4" };
  if (link.state === "down") return { text: "down", tone: "danger", dash: "3 3" };
  if (link.state === "degraded") return { text: "degraded", tone: "warn", dash: "" };
  return { text: "up", tone: "ok", dash: "" };
}

export function gatewayText(g: TopologyGateway): string {
  const parts = [g.online ? "online" : "offline"];
  if (g.role !== null) parts.push(g.role === "mixed" ? "VRRP roles differ per group" : `VRRP ${g.role}`);
  if (g.drained) parts.push("drained");
  return parts.join(", ");
}

export function poolText(p: { name: string; addresses: number; fill: number | null }): string {
  const size = `${p.addresses} address${p.addresses === 1 ? "" : "es"}`;
  return p.fill === null
    ? `pool ${p.name}: ${size}`
    : `pool ${p.name}: ${size}, ${Math.round(p.fill * 100)}% of ports used`;
}

export function ispText(isp: TopologyIsp): string {
  if (isp.operatorFailover !== null) {
    return `failed over by ${isp.operatorFailover.by} to ${isp.operatorFailover.backupName ?? "the first healthy backup"}`;
  }
  return isp.failedOver ? "failed over on some gateways" : "active";
}

export function connectionsText(n: number | null): string {
  return n === null ? "" : `${n} connection${n === 1 ? "" : "s"}`;
}
