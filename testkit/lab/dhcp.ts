import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Lab, LabProcess } from "./lab";

const UDHCPC_HOOK = fileURLToPath(new URL("./tools/udhcpc-hook.sh", import.meta.url));

/**
 * An ISP's DHCP server (dnsmasq, DHCP only: no DNS, port 0) inside a lab namespace, bound to one
 * interface there, and a DHCP client (busybox udhcpc with a hook like a distribution's) on the
 * gateway's interface. Both live only in the lab's namespaces; their files sit in a private
 * temporary directory removed by stop().
 */
export interface DhcpLab {
  /** restarts the server handing out `router` as the lease's router option (the lease survives) */
  serve(router: string): Promise<void>;
  /** asks the client to renew now (SIGUSR1), as it would when half the lease has passed */
  renew(): void;
  stop(): Promise<void>;
}

export async function startDhcp(
  lab: Lab,
  server: { ns: string; interface: string; range: [string, string]; mask: string },
  client: { interface: string },
  router: string,
): Promise<DhcpLab> {
  const dir = mkdtempSync(join(tmpdir(), "gh-dhcp-"));
  const leases = join(dir, "leases");
  writeFileSync(leases, "");
  let dnsmasq: LabProcess | null = null;
  const serve = async (via: string) => {
    if (dnsmasq !== null) {
      dnsmasq.kill("SIGTERM");
      await dnsmasq.exited;
    }
    dnsmasq = lab.spawn(server.ns, [
      "dnsmasq",
      "--keep-in-foreground",
      "--no-daemon",
      "--conf-file=/dev/null",
      "--port=0",
      `--interface=${server.interface}`,
      "--bind-interfaces",
      "--user=root",
      "--group=root",
      `--pid-file=${join(dir, "dnsmasq.pid")}`,
      `--dhcp-leasefile=${leases}`,
      "--dhcp-authoritative",
      `--dhcp-range=${server.range[0]},${server.range[1]},${server.mask},2m`,
      `--dhcp-option=option:router,${via}`,
    ]);
    // bound once it logs its DHCP range (or gone with an error)
    const end = Date.now() + 5_000;
    while (Date.now() < end && !/DHCP, IP range/.test(dnsmasq.stderr() + dnsmasq.stdout())) {
      if (dnsmasq.child.exitCode !== null) throw new Error(`dnsmasq failed: ${dnsmasq.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await serve(router);
  const udhcpc = lab.spawn(lab.ns.gateway, [
    "busybox",
    "udhcpc",
    "-f",
    "-i",
    client.interface,
    "-s",
    UDHCPC_HOOK,
    "-t",
    "10",
    "-T",
    "1",
    "-A",
    "1",
  ]);
  return {
    serve,
    renew: () => udhcpc.child.kill("SIGUSR1"),
    stop: async () => {
      udhcpc.kill("SIGTERM");
      (dnsmasq as LabProcess | null)?.kill("SIGTERM");
      await Promise.all([udhcpc.exited, (dnsmasq as LabProcess | null)?.exited]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
