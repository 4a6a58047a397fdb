import { isIPv4 } from "../address";
import { type Fwmark, formatFwmark } from "../policy/match-criteria";
import {
  type GatewaySettings,
  type HaLink,
  type HaSettings,
  zGatewayPriority,
  zGatewaySettings,
  zHaSettings,
} from "../policy/model";
import {
  type HealthCheck,
  MAX_PERSISTENCE_SECONDS,
  MAX_REAL_SERVERS,
  type RealServer,
  type SorryServer,
  type VirtualService,
  type VsProtocol,
  zHealthCheck,
} from "../policy/virtual-service";
import type { PolicyBuilder } from "./builder";
import type { Block } from "./keepalived";
import type { SourceLine } from "./text";
import { readPort, readScheduler, readServiceMark, readWeight, secondsToMs } from "./vs-text";

/**
 * keepalived's `virtual_server VIP PORT { ... real_server RIP PORT { ... } }` (and `virtual_server
 * fwmark N`, chosen by the operator's mark) into virtual services with a health check, and `vrrp_instance` / `vrrp_sync_group` into the cluster's HA settings.
 * Every line of those blocks gets its own result: what it became, or where its setting belongs.
 */

function allLines(blk: Block): SourceLine[] {
  const out = [blk.src];
  for (const c of blk.children ?? []) out.push(...allLines(c));
  if (blk.close && blk.close !== blk.src) out.push(blk.close);
  return out;
}

function sayAll(b: PolicyBuilder, blk: Block, status: "not-imported" | "ignored" | "merged", message: string) {
  for (const l of allLines(blk)) if (!b.has(l)) b.say(l, status, message);
}

/** Results said once the service's fate is known. */
interface Part {
  src: SourceLine;
  /** what the line gives the service; null: the line is not kept (then `why` says why) */
  what: string | null;
  why?: string;
}

const KEEPALIVED_DEFAULT_DELAY_LOOP_MS = 60_000;
const KEEPALIVED_DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

const NO_EQUIVALENT = new Set([
  "alpha",
  "omega",
  "quorum",
  "quorum_up",
  "quorum_down",
  "hysteresis",
  "ha_suspend",
  "virtualhost",
  "ops",
  "sorry_server_inhibit",
  "sorry_server_lvs_method",
  "retry",
  "delay_before_retry",
  "warmup",
  "smtp_alert",
  "persistence_engine",
  "lvs_sched_flags",
]);

interface CheckRead {
  check: HealthCheck;
  /** a signature for comparing the checks of several real servers */
  sig: string;
  blk: Block;
}

/** A TCP_CHECK / HTTP_GET / SSL_GET block: the check it gives, with every line's part. */
function readCheck(
  blk: Block,
  intervalMs: number,
  serverPort: number | null,
  parts: Part[],
): CheckRead | { reason: string } {
  const kind = blk.name === "TCP_CHECK" ? "tcp" : blk.name === "HTTP_GET" ? "http" : "https";
  let timeoutMs = KEEPALIVED_DEFAULT_CONNECT_TIMEOUT_MS;
  let timeoutGiven = false;
  let fall = 1;
  let fallGiven = false;
  let path = "/";
  let expectStatus = 200;
  let urls = 0;
  for (const c of blk.children ?? []) {
    const v = c.args[0];
    switch (c.name) {
      case "connect_timeout": {
        const ms = secondsToMs(v);
        if (ms === null || ms < 50) return { reason: `connect_timeout "${v ?? ""}" is not a time in seconds` };
        timeoutMs = ms;
        timeoutGiven = true;
        parts.push({ src: c.src, what: `check timeout ${ms} ms` });
        break;
      }
      case "retry":
      case "nb_get_retry": {
        if (v === undefined || !/^\d{1,3}$/.test(v)) return { reason: `${c.name} "${v ?? ""}" is not a number` };
        fall = Math.min(100, Math.max(1, Number(v)));
        fallGiven = true;
        parts.push({
          src: c.src,
          what: `${fall} failed check(s) in a row before a server is taken out (keepalived retries within one check, Gatehouse counts whole checks)`,
        });
        break;
      }
      case "delay_before_retry":
        parts.push({
          src: c.src,
          what: null,
          why: "Gatehouse retries at the check interval, not after a separate delay",
        });
        break;
      case "connect_port": {
        const p = readPort(v);
        if (p !== null && serverPort !== null && p === serverPort) parts.push({ src: c.src, what: "the port checked" });
        else
          parts.push({
            src: c.src,
            what: null,
            why: `Gatehouse checks the real server's own port${serverPort === null ? "" : ` (${serverPort})`}, not another one`,
          });
        break;
      }
      case "url": {
        urls++;
        if (kind === "tcp" || urls > 1) {
          sayUrl(
            c,
            parts,
            kind === "tcp" ? "a TCP check has no URL" : "Gatehouse checks one URL: the first one is kept",
          );
          break;
        }
        parts.push({ src: c.src, what: "the URL checked" });
        if (c.close && c.close !== c.src) parts.push({ src: c.close, what: "end of the URL" });
        for (const u of c.children ?? []) {
          const uv = u.args[0];
          if (u.name === "path" && uv !== undefined && /^\/[\x21-\x7e]*$/.test(uv)) {
            path = uv;
            parts.push({ src: u.src, what: `check path ${uv}` });
          } else if (u.name === "status_code" && uv !== undefined && /^[1-5]\d\d$/.test(uv)) {
            expectStatus = Number(uv);
            parts.push({ src: u.src, what: `expected status ${uv}` });
          } else if (u.name === "digest") {
            parts.push({
              src: u.src,
              what: null,
              why: "a digest of the whole body is not supported: Gatehouse can expect a text in the body (set it by hand)",
            });
          } else
            parts.push({
              src: u.src,
              what: null,
              why: `"${u.name} ${uv ?? ""}" is not a url setting Gatehouse reads (path, status_code)`,
            });
        }
        break;
      }
      default:
        parts.push({ src: c.src, what: null, why: `"${c.name}" of ${blk.name} has no equivalent` });
    }
  }
  let notes = "";
  if (!timeoutGiven) notes = ` (no connect_timeout: keepalived's ${KEEPALIVED_DEFAULT_CONNECT_TIMEOUT_MS / 1000} s)`;
  if (!fallGiven) notes += " (no retry: keepalived's 1)";
  if (timeoutMs > intervalMs) {
    notes += `; timeout shortened to the interval, ${intervalMs} ms`;
    timeoutMs = intervalMs;
  }
  const check = zHealthCheck.parse({
    kind,
    intervalMs,
    timeoutMs,
    fall,
    path: kind === "tcp" ? "/" : path,
    expectStatus: kind === "tcp" ? 200 : expectStatus,
  });
  parts.push({
    src: blk.src,
    what: `${kind.toUpperCase()} health check, timeout ${check.timeoutMs} ms, fall ${check.fall}, rise ${check.rise} (Gatehouse's default: keepalived has no such setting)${notes}`,
  });
  if (blk.close && blk.close !== blk.src) parts.push({ src: blk.close, what: `end of ${blk.name}` });
  return { check, sig: JSON.stringify(check), blk };
}

function sayUrl(c: Block, parts: Part[], why: string) {
  for (const l of allLines(c)) parts.push({ src: l, what: null, why });
}

function notKept(blk: Block, parts: Part[], why: string) {
  for (const l of allLines(blk)) parts.push({ src: l, what: null, why });
}

/** One address of a virtual_server_group the service body is imported for. */
interface GroupEntry {
  group: string;
  entry: SourceLine;
}

export function importVirtualServer(b: PolicyBuilder, blk: Block, member?: GroupEntry): VirtualService | null {
  const file = blk.src.file.split("/").at(-1);
  const refuse = (why: string) => {
    sayAll(b, blk, "not-imported", `not imported because ${why}`);
    return null;
  };
  // what only concerns one address of a group is said on that address's line
  const refuseHere = (why: string) => {
    if (member === undefined) return refuse(why);
    b.say(member.entry, "not-imported", `not imported because ${why}`);
    return null;
  };
  const [a0, a1] = blk.args;
  // `virtual_server fwmark N`: chosen by the operator's mark, TCP and UDP, no address or port
  let fwmark: Fwmark | null = null;
  if (a0 === "fwmark") {
    if (a1 === undefined || blk.args.length !== 2) return refuse(`"${blk.args.join(" ")}" is not fwmark and a mark`);
    const m = readServiceMark(a1);
    if ("reason" in m) return refuse(m.reason);
    fwmark = m.mark;
  }
  const address = fwmark === null && a0 !== undefined && isIPv4(a0) ? a0 : null;
  const port = fwmark === null ? readPort(a1) : 0;
  if (fwmark === null && (address === null || port === null || blk.args.length !== 2))
    return refuse(`"${blk.args.join(" ")}" is not an address and a port (names are not resolved)`);

  const parts: Part[] = [];
  const notes: string[] = [];
  let intervalMs = KEEPALIVED_DEFAULT_DELAY_LOOP_MS;
  let intervalGiven = false;
  let scheduler: ReturnType<typeof readScheduler> | null = null;
  let mode: RealServer["mode"] | null = null;
  let persistenceSeconds = 0;
  let protocol: VsProtocol = fwmark === null ? "tcp" : "any";
  let sorry: { address: string; port: number | null; src: SourceLine } | null = null;
  const realServers: Block[] = [];
  for (const c of blk.children ?? []) {
    const v = c.args[0];
    switch (c.name) {
      case "delay_loop": {
        const ms = secondsToMs(v);
        if (ms === null || ms < 100 || ms > 600_000) return refuse(`delay_loop "${v ?? ""}" is not 0.1 to 600 seconds`);
        intervalMs = ms;
        intervalGiven = true;
        parts.push({ src: c.src, what: `check interval ${ms} ms` });
        break;
      }
      case "lb_algo":
      case "lvs_sched": {
        scheduler = readScheduler(v ?? "");
        if ("reason" in scheduler) return refuse(scheduler.reason);
        parts.push({ src: c.src, what: `scheduler ${scheduler.scheduler}` });
        if (scheduler.note) notes.push(scheduler.note);
        break;
      }
      case "lb_kind":
      case "lvs_method": {
        const k = (v ?? "").toUpperCase();
        if (k === "TUN")
          return refuse("IP-in-IP tunnelling (TUN) is not supported: real servers are NAT or direct routing (DR)");
        if (k !== "NAT" && k !== "DR") return refuse(`${c.name} "${v ?? ""}" is not NAT, DR or TUN`);
        mode = k === "NAT" ? "nat" : "dr";
        parts.push({ src: c.src, what: `real servers in ${k} mode` });
        break;
      }
      case "persistence_timeout": {
        const n = v !== undefined && /^\d{1,6}$/.test(v) ? Number(v) : -1;
        if (n < 0 || n > MAX_PERSISTENCE_SECONDS)
          return refuse(`persistence_timeout "${v ?? ""}" is not 0..${MAX_PERSISTENCE_SECONDS} seconds`);
        persistenceSeconds = n;
        parts.push({ src: c.src, what: `persistence ${n} s` });
        break;
      }
      case "protocol": {
        const p = (v ?? "").toUpperCase();
        if (p !== "TCP" && p !== "UDP") return refuse(`protocol "${v ?? ""}" is not TCP or UDP`);
        if (fwmark !== null) {
          parts.push({
            src: c.src,
            what: null,
            why: "a service chosen by fwmark takes TCP and UDP, as IPVS does: the rule that sets the mark picks the protocols",
          });
          break;
        }
        protocol = p === "TCP" ? "tcp" : "udp";
        parts.push({ src: c.src, what: `protocol ${p}` });
        break;
      }
      case "sorry_server": {
        const sp = readPort(c.args[1]);
        if (!v || !isIPv4(v) || (c.args[1] !== undefined && sp === null))
          return refuse(`sorry_server "${c.args.join(" ")}" is not an address and a port`);
        sorry = {
          address: v,
          port: sp === null || (fwmark === null && sp === port) || sp === 0 ? null : sp,
          src: c.src,
        };
        break;
      }
      case "real_server":
        realServers.push(c);
        break;
      case "persistence_granularity":
        parts.push({ src: c.src, what: null, why: "persistence is per client address: a granularity is not kept" });
        break;
      case "inhibit_on_failure":
        parts.push({ src: c.src, what: null, why: "a failed server is always taken out (no weight 0 on failure)" });
        break;
      default:
        notKept(
          c,
          parts,
          NO_EQUIVALENT.has(c.name)
            ? `"${c.name}" has no equivalent in a Gatehouse virtual service`
            : `"${c.name}" is not a virtual_server setting Gatehouse reads`,
        );
    }
  }
  if (scheduler === null) {
    scheduler = readScheduler("wlc");
    notes.push("no lb_algo: keepalived's default wlc");
  }
  if ("reason" in scheduler) return refuse(scheduler.reason);
  if (scheduler.note && !notes.includes(scheduler.note)) notes.push(scheduler.note);
  if (mode === null) {
    mode = "nat";
    notes.push("no lb_kind: keepalived's default NAT");
  }
  if (!intervalGiven)
    notes.push(`no delay_loop: keepalived's ${KEEPALIVED_DEFAULT_DELAY_LOOP_MS / 1000} s check interval`);
  const allPorts = fwmark === null && port === 0;
  if (allPorts && persistenceSeconds === 0) return refuse("port 0 (every port) needs persistence_timeout");
  if (fwmark !== null) {
    const existing = b.serviceMarked(fwmark);
    if (existing) return refuse(`${existing.words} is already chosen by fwmark ${formatFwmark(fwmark)}`);
  } else {
    const existing = b.serviceAt(address ?? "", protocol, allPorts ? null : port);
    if (existing) {
      return refuseHere(
        `${existing.words} already answers on ${address} ${protocol.toUpperCase()} ${allPorts ? "every port" : `port ${port}`}`,
      );
    }
  }

  // real servers
  const servers: Array<{ blk: Block; rs: RealServer; parts: Part[] }> = [];
  let check: CheckRead | null = null;
  for (const r of realServers) {
    const rParts: Part[] = [];
    const rAddr = r.args[0];
    const rPort = readPort(r.args[1]);
    if (!rAddr || !isIPv4(rAddr) || rPort === null || r.args.length !== 2) {
      sayAll(b, r, "not-imported", `not imported because "${r.args.join(" ")}" is not an address and a port`);
      continue;
    }
    if (servers.some((s) => s.rs.address === rAddr)) {
      sayAll(b, r, "ignored", `the same real server as an earlier real_server ${rAddr}: the first one is kept`);
      continue;
    }
    if (servers.length >= MAX_REAL_SERVERS) {
      sayAll(b, r, "not-imported", `not imported because a service may have at most ${MAX_REAL_SERVERS} real servers`);
      continue;
    }
    let weight = readWeight(undefined);
    let rsCheck: CheckRead | null = null;
    // an fwmark service sends connections to the real server's port (none: the port they came to)
    const ownPort = allPorts || rPort === 0 || (fwmark === null && rPort === port) ? null : rPort;
    const checkedPort = ownPort ?? (allPorts || fwmark !== null ? null : port);
    for (const c of r.children ?? []) {
      switch (c.name) {
        case "weight": {
          const w = readWeight(c.args[0]);
          if (!w) {
            rParts.push({ src: c.src, what: null, why: `weight "${c.args[0] ?? ""}" is not 0..65535: 1 is used` });
            break;
          }
          weight = w;
          rParts.push({ src: c.src, what: w.note || `weight ${w.weight}` });
          break;
        }
        case "TCP_CHECK":
        case "HTTP_GET":
        case "SSL_GET": {
          if (rsCheck !== null) {
            notKept(c, rParts, "Gatehouse has one health check per service: the first one is kept");
            break;
          }
          const got = readCheck(c, intervalMs, checkedPort, rParts);
          if ("reason" in got) notKept(c, rParts, got.reason);
          else rsCheck = got;
          break;
        }
        case "MISC_CHECK":
        case "SMTP_CHECK":
        case "DNS_CHECK":
        case "BFD_CHECK":
        case "PING_CHECK":
        case "UDP_CHECK":
        case "FILE_CHECK":
          notKept(c, rParts, `${c.name} is not supported: Gatehouse checks with TCP, HTTP or HTTPS`);
          break;
        case "inhibit_on_failure":
          rParts.push({ src: c.src, what: null, why: "a failed server is always taken out (no weight 0 on failure)" });
          break;
        default:
          notKept(c, rParts, `"${c.name}" is not a real_server setting Gatehouse reads`);
      }
    }
    if (rsCheck !== null) {
      if (check === null) check = rsCheck;
      else if (check.sig !== rsCheck.sig) {
        const first = check.blk.src.line;
        for (const p of rParts) {
          if (allLines(rsCheck.blk).includes(p.src)) {
            p.what = null;
            p.why = `Gatehouse has one health check per service: the one on line ${first} is used for every real server`;
          }
        }
      }
    }
    const rs: RealServer = {
      address: rAddr,
      port: mode === "dr" ? null : ownPort,
      weight: weight?.weight ?? 1,
      mode,
      state: weight?.state ?? "enabled",
    };
    if (mode === "dr" && ownPort !== null)
      notes.push(`real server ${rAddr}: port ${ownPort} not kept (direct routing cannot change the port)`);
    servers.push({ blk: r, rs, parts: rParts });
  }
  if (servers.length === 0) return refuse("it has no real server that could be read");

  const vs = b.virtualService({
    address,
    fwmark,
    protocol,
    port: allPorts || fwmark !== null ? null : port,
    scheduler: scheduler.scheduler,
    persistenceSeconds,
    sorryServer: sorry ? ({ address: sorry.address, port: allPorts ? null : sorry.port } satisfies SorryServer) : null,
    fullNat: false,
    realServers: servers.map((s) => s.rs),
    healthCheck: check?.check ?? zHealthCheck.parse({ kind: "none", intervalMs }),
    enabled: true,
    comment: `virtual_server, ${file} line ${blk.src.line}`,
  });
  if ("problems" in vs) return refuseHere(vs.problems.join("; "));
  const label = member === undefined ? `virtual service "${vs.name}"` : `the virtual services of group ${member.group}`;

  const checkWords = check
    ? `, ${check.check.kind.toUpperCase()} check every ${check.check.intervalMs} ms`
    : ", no health check";
  b.say(
    member?.entry ?? blk.src,
    "imported",
    `imported as ${b.vsWords(vs)}${checkWords}${notes.length ? `; ${notes.join("; ")}` : ""}`,
  );
  if (blk.close && blk.close !== blk.src) b.say(blk.close, "ignored", "end of virtual_server");
  const sayPart = (p: Part) =>
    b.say(
      p.src,
      p.what === null ? "not-imported" : "merged",
      p.what === null ? `not imported: ${p.why ?? ""}` : `${p.what} of ${label}`,
    );
  for (const p of parts) sayPart(p);
  if (sorry)
    b.say(
      sorry.src,
      "merged",
      `sorry server ${sorry.address}${sorry.port === null ? "" : `:${sorry.port}`} of ${label}`,
    );
  for (const s of servers) {
    b.say(
      s.blk.src,
      "merged",
      `real server ${s.rs.address}${s.rs.port === null ? "" : `:${s.rs.port}`} (${s.rs.mode.toUpperCase()}) of ${label}`,
    );
    if (s.blk.close && s.blk.close !== s.blk.src) b.say(s.blk.close, "ignored", "end of real_server");
    for (const p of s.parts) sayPart(p);
  }
  return vs;
}

/** Addresses one virtual_server_group may expand to: a group is a handful of addresses, not a subnet. */
const MAX_GROUP_ADDRESSES = 64;

/**
 * `virtual_server group NAME` with its `virtual_server_group NAME { IP PORT; IP-IP PORT; fwmark N }`:
 * one Gatehouse virtual service per address, each with the body's scheduler, check and real
 * servers. fwmark entries are not read (a service chosen by fwmark is written as `virtual_server
 * fwmark N`, which importVirtualServer reads). LVS keeps one
 * persistence table for the whole group; the services made here keep one each.
 */
export function importVirtualServerGroup(b: PolicyBuilder, blk: Block, group: Block | undefined) {
  const name = blk.args[1] ?? "";
  if (group === undefined || blk.args.length !== 2) {
    sayAll(b, blk, "not-imported", `not imported because there is no virtual_server_group ${name}`);
    return;
  }
  const entries: Array<{ address: string; port: string; src: SourceLine }> = [];
  let port: { text: string; line: number } | null = null;
  for (const c of group.children ?? []) {
    if (c.name === "fwmark") {
      sayAll(
        b,
        c,
        "not-imported",
        `not imported because fwmark entries of a group (fwmark ${c.args[0] ?? ""}) are not read: write that service as virtual_server fwmark ${c.args[0] ?? "N"} { ... }`,
      );
      continue;
    }
    const [from, last] = c.name.split("-");
    const p = c.args[0];
    if (from === undefined || !isIPv4(from) || c.args.length !== 1 || readPort(p) === null) {
      sayAll(
        b,
        c,
        "not-imported",
        `not imported because "${[c.name, ...c.args].join(" ")}" is not an address (or range) and a port`,
      );
      continue;
    }
    const octets = from.split(".").map(Number);
    const first = octets[3] as number;
    const end = last === undefined ? first : Number(last);
    if (!Number.isInteger(end) || end < first || end > 255 || end - first + 1 > MAX_GROUP_ADDRESSES) {
      sayAll(
        b,
        c,
        "not-imported",
        `not imported because "${c.name}" is not a range a.b.c.d-e of at most ${MAX_GROUP_ADDRESSES} addresses`,
      );
      continue;
    }
    if (port !== null && port.text !== p) {
      sayAll(
        b,
        c,
        "not-imported",
        `not imported because the group's other entries use port ${port.text} (line ${port.line}): the body's real servers are read for one port`,
      );
      continue;
    }
    port ??= { text: p as string, line: c.src.line };
    for (let o = first; o <= end; o++)
      entries.push({ address: `${octets.slice(0, 3).join(".")}.${o}`, port: p as string, src: c.src });
  }
  if (entries.length === 0) {
    sayAll(
      b,
      blk,
      "not-imported",
      `not imported because no entry of virtual_server_group ${name} can be a virtual service`,
    );
    if (!b.has(group.src))
      sayAll(b, group, "not-imported", `not imported: none of its entries can be a virtual service`);
    return;
  }
  const made: string[] = [];
  const ranges = new Map<SourceLine, string[]>();
  for (const e of entries) {
    const vs = importVirtualServer(b, { ...blk, args: [e.address, e.port] }, { group: name, entry: e.src });
    if (vs === null) continue;
    made.push(vs.name);
    ranges.set(e.src, [...(ranges.get(e.src) ?? []), vs.name]);
  }
  // a range line names every service it became
  for (const [src, names] of ranges)
    if (names.length > 1)
      b.say(src, "imported", `imported as virtual services ${names.map((n) => `"${n}"`).join(", ")}`);
  if (made.length === 0) return;
  b.say(
    blk.src,
    "imported",
    `imported as ${made.length} virtual service(s), one per address of virtual_server_group ${name} (${made.join(", ")}); LVS shares persistence across a group, each of these keeps its own`,
  );
  b.say(group.src, "merged", `the addresses of virtual_server group ${name}`);
  if (group.close && group.close !== group.src) b.say(group.close, "ignored", "end of virtual_server_group");
}

// ---------------------------------------------------------------------------------------------
// VRRP

const PER_GATEWAY: Record<string, string> = {
  state: "each gateway's part follows its VRRP priority: set the priorities in each gateway's settings (Gateways page)",
  priority: "a gateway's priority belongs in that gateway's settings (Gateways page), not the cluster's",
  unicast_src_ip: "this gateway's own address: set it as the gateway's LAN address in its settings (Gateways page)",
  mcast_src_ip: "this gateway's own address: set it as the gateway's LAN address in its settings (Gateways page)",
};

const NOT_NEEDED: Record<string, string> = {
  authentication: "VRRP authentication is not used (VRRPv3 has none)",
  track_script: "scripts are not run: Gatehouse tracks each ISP link itself",
  notify: "notify scripts are not run: Gatehouse's agent acts on the state changes itself",
  notify_master: "notify scripts are not run: Gatehouse's agent acts on the state changes itself",
  notify_backup: "notify scripts are not run: Gatehouse's agent acts on the state changes itself",
  notify_fault: "notify scripts are not run: Gatehouse's agent acts on the state changes itself",
  notify_stop: "notify scripts are not run: Gatehouse's agent acts on the state changes itself",
  smtp_alert: "mail alerts are not sent by the gateways",
  preempt_delay: "a higher-priority gateway takes over at once when preempt is on: a delay is not kept",
  garp_master_delay: "gratuitous ARP timing is the agent's own",
  garp_master_refresh: "gratuitous ARP timing is the agent's own",
  version: "Gatehouse speaks VRRPv3",
  dont_track_primary: "Gatehouse tracks each ISP link itself",
  virtual_routes: "routes are Gatehouse's own (each ISP's next hop)",
  virtual_ipaddress_excluded: "only the first virtual address of an instance floats",
};

interface Instance {
  blk: Block;
  name: string;
  iface: string | null;
  vrid: number | null;
  address: { text: string; src: SourceLine } | null;
  /** unicast_src_ip / mcast_src_ip: the gateway's own address on the instance's link */
  own: { ip: string; src: SourceLine } | null;
}

/** "198.51.100.4" with the prefix length of "198.51.100.1/24", or null without one. */
function withPrefixOf(ip: string, addressWithPrefix: string | null | undefined): string | null {
  const prefix = addressWithPrefix?.split("/")[1];
  return prefix === undefined ? null : `${ip}/${prefix}`;
}

export function importVrrp(b: PolicyBuilder, instances: Block[], groups: Block[]) {
  if (instances.length === 0) {
    for (const g of groups) sayAll(b, g, "not-imported", "not imported because the sync group has no vrrp_instance");
    return;
  }
  const base: HaSettings = b.ha;
  if (base.mode === "active_active") {
    for (const blk of [...instances, ...groups]) {
      sayAll(
        b,
        blk,
        "not-imported",
        "not imported because the cluster is active/active: keepalived's instances are read as active/standby, change the HA mode first to import them",
      );
    }
    return;
  }
  const ha: HaSettings = { ...base, mode: "active_standby", links: [...base.links] };
  const parts: Array<{ src: SourceLine; status: "merged" | "not-imported" | "ignored"; message: string }> = [];
  const said = (src: SourceLine, status: "merged" | "not-imported" | "ignored", message: string) =>
    parts.push({ src, status, message });
  let lan: Instance | null = null;
  let advert: { ms: number; line: number } | null = null;
  let preempt: boolean | null = null;
  let unicast = false;
  const names = new Set<string>();
  let imported = 0;
  // the gateway this file belongs to, when the import names one: its own VRRP values go into its settings
  const gatewayId = b.opts.gatewayId ?? null;
  const before = b.existing.settings.gateways.find((g) => g.gatewayId === gatewayId);
  const gw: GatewaySettings | null =
    gatewayId === null ? null : zGatewaySettings.parse({ ...before, gatewayId, links: [...(before?.links ?? [])] });
  let priority: { value: number; line: number } | null = null;

  for (const blk of instances) {
    const inst: Instance = { blk, name: blk.args[0] ?? "", iface: null, vrid: null, address: null, own: null };
    names.add(inst.name);
    let nopreempt = false;
    for (const c of blk.children ?? []) {
      const v = c.args[0];
      if (c.name === "interface" && v) {
        inst.iface = v;
      } else if (c.name === "virtual_router_id" && v && /^\d{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 255) {
        inst.vrid = Number(v);
      } else if (c.name === "virtual_ipaddress") {
        for (const a of c.children ?? []) {
          if (inst.address === null) inst.address = { text: a.name, src: a.src };
          else sayAll(b, a, "not-imported", "not imported: one address floats per instance; the first one is kept");
        }
        if (c.close && c.close !== c.src) said(c.close, "ignored", "end of virtual_ipaddress");
        said(c.src, "merged", `the addresses of ${inst.name}`);
      } else if (c.name === "advert_int" && secondsToMs(v) !== null) {
        const ms = Math.min(40_950, Math.max(10, Math.round((secondsToMs(v) as number) / 10) * 10));
        if (advert === null) {
          advert = { ms, line: c.src.line };
          said(c.src, "merged", `advert interval ${ms} ms`);
        } else if (advert.ms !== ms)
          said(
            c.src,
            "not-imported",
            `not imported: the cluster has one advert interval, ${advert.ms} ms from line ${advert.line}`,
          );
        else said(c.src, "merged", `advert interval ${ms} ms (the same as line ${advert.line})`);
      } else if (c.name === "nopreempt") {
        nopreempt = true;
        said(c.src, "merged", "preempt off: a returning gateway does not take its groups back by itself");
      } else if (c.name === "preempt") {
        said(c.src, "merged", "preempt on");
      } else if (c.name === "unicast_peer") {
        unicast = true;
        said(c.src, "merged", "adverts by unicast");
        for (const p of c.children ?? [])
          sayAll(
            b,
            p,
            "ignored",
            "a peer's address: Gatehouse sends the adverts to the cluster's other gateways itself",
          );
        if (c.close && c.close !== c.src) said(c.close, "ignored", "end of unicast_peer");
      } else if (c.name === "track_interface") {
        said(c.src, "merged", "Gatehouse tracks every ISP link of each gateway itself");
        for (const t of c.children ?? []) {
          const wi = t.args.indexOf("weight");
          const w = wi === -1 ? null : Number(t.args[wi + 1]);
          if (w !== null && Number.isInteger(w) && Math.abs(w) <= 253 && w !== 0) {
            ha.trackLinkWeight = Math.abs(w);
            said(
              t.src,
              "merged",
              `a link that is down lowers the gateway's priority by ${Math.abs(w)} (track link weight)`,
            );
          } else said(t.src, "merged", `interface ${t.name} is tracked (as every ISP link is)`);
        }
        if (c.close && c.close !== c.src) said(c.close, "ignored", "end of track_interface");
      } else if (gw !== null && c.name === "priority") {
        const p = zGatewayPriority.safeParse(Number(v));
        if (!p.success || !/^\d+$/.test(v ?? "")) {
          said(
            c.src,
            "not-imported",
            `not imported because priority ${v ?? ""} ${p.error?.issues[0]?.message ?? "is not a whole number"}`,
          );
        } else if (priority !== null && priority.value !== p.data) {
          said(
            c.src,
            "not-imported",
            `not imported: a gateway has one VRRP priority, ${priority.value} from line ${priority.line}`,
          );
        } else {
          priority ??= { value: p.data, line: c.src.line };
          gw.priority = p.data;
          said(c.src, "merged", `this gateway's VRRP priority ${p.data}`);
        }
      } else if (gw !== null && (c.name === "unicast_src_ip" || c.name === "mcast_src_ip")) {
        if (v && isIPv4(v)) inst.own = { ip: v, src: c.src };
        else said(c.src, "not-imported", `not imported because "${v ?? ""}" is not an IPv4 address`);
      } else if (gw !== null && c.name === "state") {
        said(
          c.src,
          "ignored",
          "MASTER or BACKUP follows from the gateways' priorities (this one's is read from this file)",
        );
      } else if (PER_GATEWAY[c.name]) {
        sayAll(
          b,
          c,
          "not-imported",
          `not imported: ${PER_GATEWAY[c.name]}${c.name === "priority" ? ` (${v ?? ""} here)` : ""}, or import this file for its gateway`,
        );
      } else if (NOT_NEEDED[c.name]) {
        sayAll(b, c, "not-imported", `not imported: ${NOT_NEEDED[c.name]}`);
      } else if (c.name !== "interface" && c.name !== "virtual_router_id") {
        sayAll(b, c, "not-imported", `not imported because "${c.name}" is not a vrrp_instance setting Gatehouse reads`);
      }
    }
    const vridLine = blk.children?.find((c) => c.name === "virtual_router_id");
    const ifLine = blk.children?.find((c) => c.name === "interface");
    preempt = preempt === null ? !nopreempt : preempt && !nopreempt;
    if (inst.iface === null || inst.vrid === null) {
      const why = inst.iface === null ? "it names no interface" : "its virtual_router_id is not 1..255";
      sayAll(b, blk, "not-imported", `not imported because ${why}`);
      continue;
    }
    const isp = b.allIsps().find((i) => i.interface === inst.iface);
    const closeBlk = () => {
      if (blk.close && blk.close !== blk.src) said(blk.close, "ignored", "end of vrrp_instance");
    };
    if (isp) {
      let floating: string | null = null;
      if (inst.address) {
        const t = inst.address.text;
        if (/^\d+\.\d+\.\d+\.\d+\/\d{1,2}$/.test(t) && isIPv4(t.split("/")[0] as string)) {
          floating = t;
          said(inst.address.src, "merged", `the floating address of ISP "${isp.name}"'s link`);
        } else
          said(
            inst.address.src,
            "not-imported",
            `not imported because "${t}" has no prefix length: a floating address is written as ${t}/24 (the link's prefix)`,
          );
      }
      if (gw !== null && inst.own !== null) {
        const own = withPrefixOf(inst.own.ip, floating ?? isp.localAddress);
        if (own === null) {
          said(
            inst.own.src,
            "not-imported",
            `not imported because the prefix of ISP "${isp.name}"'s link is not known: give the floating address its prefix, or the ISP its link address`,
          );
        } else {
          const old = gw.links.find((l) => l.ispId === isp.id);
          gw.links = [
            ...gw.links.filter((l) => l.ispId !== isp.id),
            { ispId: isp.id, interface: null, nextHop: null, floatingAddress: null, ...old, localAddress: own },
          ];
          said(inst.own.src, "merged", `this gateway's own address on ISP "${isp.name}"'s link: ${own}`);
        }
      }
      const link: HaLink = { ispId: isp.id, vrid: inst.vrid, floatingAddress: floating };
      ha.links = [...ha.links.filter((l) => l.ispId !== isp.id), link];
      imported++;
      b.say(
        blk.src,
        "imported",
        `imported as the VRRP instance of ISP "${isp.name}"'s link (${inst.iface}): VRID ${inst.vrid}${floating ? `, floating address ${floating}` : ""}`,
      );
      if (ifLine) said(ifLine.src, "merged", `ISP "${isp.name}"'s interface`);
      if (vridLine) said(vridLine.src, "merged", `VRID ${inst.vrid} of ISP "${isp.name}"'s link`);
      closeBlk();
      continue;
    }
    if (lan !== null) {
      sayAll(
        b,
        blk,
        "not-imported",
        `not imported because ${lan.name} (line ${lan.blk.src.line}) is already the LAN instance and ${inst.iface} is no ISP's interface: active/standby has one LAN instance`,
      );
      continue;
    }
    lan = inst;
    imported++;
    ha.lanVrid = inst.vrid;
    let addrWords = "";
    if (inst.address) {
      const t = inst.address.text;
      if (/^\d+\.\d+\.\d+\.\d+\/\d{1,2}$/.test(t) && isIPv4(t.split("/")[0] as string)) {
        ha.lanVirtualAddress = t;
        addrWords = `, LAN virtual address ${t}`;
        said(inst.address.src, "merged", "the clients' default gateway (LAN virtual address)");
      } else
        said(
          inst.address.src,
          "not-imported",
          `not imported because "${t}" has no prefix length: the LAN virtual address is written with the LAN's prefix, such as ${t}/24`,
        );
    }
    b.say(
      blk.src,
      "imported",
      `imported as the LAN VRRP instance (${inst.iface}): active/standby, VRID ${inst.vrid}${addrWords}`,
    );
    if (gw !== null) {
      gw.lanInterface = inst.iface;
      if (inst.own !== null) {
        const own = withPrefixOf(inst.own.ip, ha.lanVirtualAddress);
        if (own === null) {
          said(
            inst.own.src,
            "not-imported",
            "not imported because the LAN's prefix is not known: write the LAN virtual address with its prefix",
          );
        } else {
          gw.lanAddress = own;
          said(inst.own.src, "merged", `this gateway's own LAN address ${own}`);
        }
      }
    }
    if (ifLine)
      said(
        ifLine.src,
        "merged",
        gw !== null
          ? `this gateway's LAN interface ${inst.iface}`
          : `the LAN interface of ${inst.name} (each gateway's LAN interface is set in its settings)`,
      );
    if (vridLine) said(vridLine.src, "merged", `LAN VRID ${inst.vrid}`);
    closeBlk();
  }
  if (advert) ha.advertIntervalMs = (advert as { ms: number }).ms;
  if (preempt !== null) ha.preempt = preempt;
  ha.unicast = unicast;
  if (imported === 0) {
    for (const g of groups) sayAll(b, g, "not-imported", "not imported because none of its instances could be read");
    return;
  }
  const parsed = zHaSettings.safeParse(ha);
  const problems = parsed.success ? b.haProblems(parsed.data, gw) : ["the settings read are not valid HA settings"];
  if (problems.length > 0) {
    // the rest of the import stays usable: the VRRP settings are left out, with the reason
    const why = `not imported because the HA settings it gives would not be valid: ${problems.join("; ")}`;
    for (const blk of [...instances, ...groups]) {
      for (const l of allLines(blk)) {
        b.say(
          l,
          "not-imported",
          l === blk.src ? why : `part of the VRRP settings on line ${blk.src.line}, not imported`,
        );
      }
    }
    b.notes.push("The VRRP instances were not imported: set HA up in the cluster's settings (see the lines' reasons)");
    return;
  }
  for (const p of parts) b.say(p.src, p.status, p.message);

  for (const g of groups) {
    const members: string[] = [];
    for (const c of g.children ?? []) {
      if (c.name === "group") {
        for (const m of c.children ?? []) {
          members.push(m.name);
          b.say(
            m.src,
            names.has(m.name) ? "merged" : "not-imported",
            names.has(m.name)
              ? `instance ${m.name} fails over with the others`
              : `not imported because there is no vrrp_instance ${m.name}`,
          );
        }
        if (c.close && c.close !== c.src) b.say(c.close, "ignored", "end of the group list");
        b.say(c.src, "merged", "the instances of the group");
      } else
        sayAll(
          b,
          c,
          "not-imported",
          `not imported: ${NOT_NEEDED[c.name] ?? `"${c.name}" of a sync group has no equivalent`}`,
        );
    }
    b.say(
      g.src,
      "merged",
      `sync group ${g.args[0] ?? ""}: Gatehouse's VRRP instances always fail over together${members.length ? ` (${members.join(", ")})` : ""}`,
    );
    if (g.close && g.close !== g.src) b.say(g.close, "ignored", "end of vrrp_sync_group");
  }
  if (!parsed.success) return;
  b.setHa(parsed.data);
  if (gw !== null) {
    b.setGateway(gw);
    b.notes.push(
      `This gateway's VRRP values (priority ${gw.priority}${gw.lanInterface ? `, LAN interface ${gw.lanInterface}` : ""}${gw.lanAddress ? `, LAN address ${gw.lanAddress}` : ""}${gw.links.length ? `, ${gw.links.length} ISP link address(es)` : ""}) replace its settings; import each gateway's file for it`,
    );
  }
  if (base.mode === "active_standby")
    b.notes.push("The draft's active/standby settings are replaced by those read here");
  b.notes.push(
    `HA settings from keepalived: active/standby, LAN VRID ${ha.lanVrid}, advert interval ${ha.advertIntervalMs} ms${advert ? "" : " (no advert_int: Gatehouse's default; keepalived's is 1 s)"}, preempt ${ha.preempt ? "on" : "off"}, ${ha.unicast ? "unicast" : "multicast"} adverts; each gateway's priority and addresses are set in its own settings`,
  );
}
