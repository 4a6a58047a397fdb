import { NFT_TABLE } from "../../core/spec/marks";
import { type CommandRunner, describeFailure, ok } from "../apply/runner";
import { parseRuleCounters, type RuleReading } from "./rule-counters";

const TIMEOUT_MS = 5_000;

/** One `nft -j list counters` of the policy table: every rule's counter in one call. */
export async function readRuleCounters(runner: CommandRunner): Promise<Map<string, RuleReading>> {
  const r = await runner.run(["nft", "-j", "list", "counters", "table", "inet", NFT_TABLE], { timeoutMs: TIMEOUT_MS });
  if (!ok(r)) throw new Error(describeFailure(r));
  return parseRuleCounters(r.stdout);
}
