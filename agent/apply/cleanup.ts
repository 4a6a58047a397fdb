import { ARP_TABLE, GUARD_TABLE, POLICY_TABLE } from "../../core/render/names";
import type { DesiredRouting } from "../../core/render/routes";
import { reconcileRouting } from "./routes";
import { type CommandRunner, describeFailure, ok } from "./runner";

/**
 * Takes the agent's datapath off the gateway: its nft tables (policy, guard, ARP watch), its ip
 * rules and routing tables, and the on-link pool addresses it put on uplinks (only those carrying
 * its metric). The rp_filter sysctls stay as they are: their values before the agent are unknown,
 * and loose filtering is harmless.
 *
 * Deleting the guard lets LAN traffic leave un-NATed if routing still sends it out: this is for
 * taking a gateway out of service, not for a running one.
 */

export interface CleanupResult {
  changes: string[];
  errors: string[];
}

const NOTHING: DesiredRouting = { rules: [], routes: [], addresses: [], sysctls: [] };

export async function removeDatapath(runner: CommandRunner): Promise<CleanupResult> {
  const result: CleanupResult = { changes: [], errors: [] };
  // nft 1.0.6 has no `destroy`: adding a table that may be missing, then deleting it, never fails
  const tables = [POLICY_TABLE, GUARD_TABLE, ARP_TABLE];
  const text = `${tables.flatMap((t) => [`add table ${t}`, `delete table ${t}`]).join("\n")}\n`;
  const r = await runner.run(["nft", "-f", "-"], { input: text });
  if (ok(r)) result.changes.push(...tables.map((t) => `nft delete table ${t}`));
  else result.errors.push(describeFailure(r));
  const routing = await reconcileRouting(runner, NOTHING, "prune");
  result.changes.push(...routing.changes);
  result.errors.push(...routing.errors);
  return result;
}
