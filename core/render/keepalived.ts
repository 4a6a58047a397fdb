import type { SpecHa } from "../spec/schema";

/** Where keepalived's runtime files live: under one directory per agent, so agents never collide. */
export interface KeepalivedPaths {
  dir: string;
}

export const keepalivedNotifyFifo = (p: KeepalivedPaths): string => `${p.dir}/keepalived.fifo`;
export const keepalivedTrackFile = (p: KeepalivedPaths): string => `${p.dir}/links.weight`;

/** keepalived's advert_int, in seconds (VRRPv3 takes hundredths). */
const advertSeconds = (ms: number): string => (ms / 1000).toFixed(2);

/**
 * keepalived.conf for one gateway: VRRPv3, one vrrp_sync_group per group, the interface carrier
 * (keepalived tracks an instance's own interface anyway) and the ISP links by the weight file the agent writes from its probes.
 */
export function renderKeepalivedConf(ha: SpecHa, paths: KeepalivedPaths): string {
  const out: string[] = [
    "global_defs {",
    "  vrrp_version 3",
    `  notify_fifo ${keepalivedNotifyFifo(paths)}`,
    "}",
    "",
    // the agent writes the number of this gateway's ISP links that are down
    "track_file gatehouse_links {",
    `  file "${keepalivedTrackFile(paths)}"`,
    "  weight 1",
    "  init_file 0 overwrite",
    "}",
  ];
  const tracking = ha.trackLinkWeight > 0;
  for (const group of ha.groups) {
    out.push("", `vrrp_sync_group ${group.name} {`, "  group {");
    for (const inst of group.instances) out.push(`    ${inst.name}`);
    out.push("  }");
    // without it keepalived ignores track weights of sync group members
    if (tracking) out.push("  sync_group_tracking_weight");
    out.push("}");
  }
  for (const group of ha.groups) {
    const priority = ha.drained ? 1 : group.priority;
    for (const inst of group.instances) {
      out.push("", `vrrp_instance ${inst.name} {`, "  state BACKUP", `  interface ${inst.interface}`);
      out.push(`  virtual_router_id ${inst.vrid}`, `  priority ${priority}`);
      out.push(`  advert_int ${advertSeconds(ha.advertIntervalMs)}`);
      if (!ha.preempt) out.push("  nopreempt");
      if (inst.unicastPeers.length > 0) {
        out.push(`  unicast_src_ip ${inst.ownAddress}`, "  unicast_peer {");
        for (const peer of inst.unicastPeers) out.push(`    ${peer}`);
        out.push("  }");
      }
      // every member lowers by the same amount, so the group moves as one
      if (tracking) {
        out.push("  track_file {", `    gatehouse_links weight -${ha.trackLinkWeight}`, "  }");
      }
      out.push("  virtual_ipaddress {");
      for (const addr of inst.virtualAddresses) out.push(`    ${addr} dev ${inst.interface}`);
      out.push("  }", "}");
    }
  }
  return `${out.join("\n")}\n`;
}
