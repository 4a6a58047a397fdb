import type { SpecHa } from "../spec/schema";

/** Where conntrackd's runtime files live: the agent's directory, so agents in lab namespaces never collide. */
export interface ConntrackdPaths {
  dir: string;
}

export const conntrackdSocket = (p: ConntrackdPaths): string => `${p.dir}/conntrackd.ctl`;
export const conntrackdLockFile = (p: ConntrackdPaths): string => `${p.dir}/conntrackd.lock`;
export const conntrackdLogFile = (p: ConntrackdPaths): string => `${p.dir}/conntrackd.log`;

/** Protocols whose connections are synced: TCP for sessions, UDP and ICMP so their NAT bindings survive too. */
const SYNCED_PROTOCOLS = ["TCP", "UDP", "ICMP"] as const;

const host = (address: string) => address.split("/")[0] as string;

/**
 * The gateways' own traffic is not worth syncing and must not be: the VRRP adverts, the sync
 * channel itself and connections to or from the gateways' own and floating addresses belong to
 * one machine. Pool addresses are not here: they are what SNATed connections are rewritten to.
 */
export function conntrackdIgnoredAddresses(ha: SpecHa): string[] {
  const out = new Set<string>(["127.0.0.1"]);
  const sync = ha.sync;
  if (sync !== null) {
    out.add(sync.ownAddress);
    for (const p of sync.peerAddresses) out.add(p);
  }
  for (const group of ha.groups) {
    for (const inst of group.instances) {
      out.add(inst.ownAddress);
      for (const p of inst.unicastPeers) out.add(p);
      // pool addresses float as /32s; the LAN gateway and floating link addresses carry their link's prefix
      for (const v of inst.virtualAddresses) if (!v.endsWith("/32")) out.add(host(v));
    }
  }
  return [...out];
}

/**
 * conntrackd.conf for one gateway, or null when the spec has no connection sync: FTFW (reliable,
 * acknowledged) over UDP on the sync link, an external cache that the new master commits into its
 * kernel table on promotion (agent/ha; active/active injects the peer's connections into the kernel
 * at once instead), and a filter that keeps the gateways' own traffic out.
 * One UDP channel per peer: conntrackd sends on the first and falls back to the next when it fails.
 */
export function renderConntrackdConf(ha: SpecHa, paths: ConntrackdPaths): string | null {
  const sync = ha.sync;
  if (sync === null) return null;
  const out: string[] = ["Sync {", "  Mode FTFW {", "    ResendQueueSize 131072"];
  // active/active: a gateway taking over its peer's group must already hold the peer's connections
  // in its kernel when the first packet arrives, or it NATs them anew to its own slice before the
  // commit lands; so the peer's connections go straight into the kernel table
  if (ha.mode === "active_active") out.push("    DisableExternalCache on");
  out.push("  }");
  sync.peerAddresses.forEach((peer, i) => {
    out.push(
      i === 0 ? "  UDP Default {" : "  UDP {",
      `    IPv4_address ${sync.ownAddress}`,
      `    IPv4_Destination_Address ${peer}`,
      `    Port ${sync.port}`,
      `    Interface ${sync.interface}`,
      "    SndSocketBuffer 1249280",
      "    RcvSocketBuffer 1249280",
      "    Checksum on",
      "  }",
    );
  });
  out.push(
    "}",
    "",
    "General {",
    "  HashSize 32768",
    "  HashLimit 131072",
    `  LogFile ${conntrackdLogFile(paths)}`,
    "  Syslog off",
    `  LockFile ${conntrackdLockFile(paths)}`,
    "  UNIX {",
    `    Path ${conntrackdSocket(paths)}`,
    "  }",
    "  NetlinkBufferSize 2097152",
    "  NetlinkBufferSizeMaxGrowth 8388608",
    "  NetlinkOverrunResync on",
    "  NetlinkEventsReliable off",
    "  Filter From Userspace {",
    "    Protocol Accept {",
    ...SYNCED_PROTOCOLS.map((p) => `      ${p}`),
    "    }",
    "    Address Ignore {",
    ...conntrackdIgnoredAddresses(ha).map((a) => `      IPv4_address ${a}`),
    "    }",
    "  }",
    "}",
  );
  return `${out.join("\n")}\n`;
}
