import type { HealthCheck } from "../../core/policy/virtual-service";
import type { CommandRunner } from "../apply/runner";
import type { CheckResult, RunCheck } from "./checks";

/**
 * The same checks run through curl and the agent's command runner: for an agent whose datapath
 * is a network namespace it does not itself live in (labs, `--netns`), where the real servers are
 * only reachable from inside the namespace.
 */

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** curl's exit code 7: it could not connect; 28: the time ran out. */
export function commandCheck(runner: CommandRunner): RunCheck {
  return async (check: HealthCheck, address: string, port: number): Promise<CheckResult> => {
    const limit = seconds(check.timeoutMs);
    const opts = { timeoutMs: check.timeoutMs + 2000 };
    if (check.kind === "none") return null;
    if (check.kind === "tcp") {
      const r = await runner.run(
        [
          "curl",
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{time_connect}",
          "--connect-timeout",
          limit,
          "--max-time",
          limit,
          `http://${address}:${port}/`,
        ],
        opts,
      );
      if (r.code === 7) return "ECONNREFUSED";
      if (Number(r.stdout.trim()) > 0) return null;
      return `no connection within ${check.timeoutMs} ms`;
    }
    const url = `${check.kind}://${address}:${port}${check.path}`;
    const r = await runner.run(["curl", "-s", "-k", "--max-time", limit, "-w", "\n%{http_code}", url], opts);
    if (r.code === 7) return "ECONNREFUSED";
    if (r.code === 28) return `no answer within ${check.timeoutMs} ms`;
    if (r.code !== 0) return `curl exit ${r.code ?? "?"}`;
    const cut = r.stdout.lastIndexOf("\n");
    const status = Number(r.stdout.slice(cut + 1));
    if (status !== check.expectStatus) return `status ${status}, expected ${check.expectStatus}`;
    if (check.bodyText !== "" && !r.stdout.slice(0, cut).includes(check.bodyText)) {
      return `the body does not contain "${check.bodyText}"`;
    }
    return null;
  };
}
