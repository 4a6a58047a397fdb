// Runs the agent's datapath and virtual service health checker inside a namespace (started with
// `ip netns exec NS node --import tsx vs-checker.ts SPEC.json SECONDS`): applies the spec, then
// checks the real servers and prints one JSON line per health change and per update. Bounded:
// exits after SECONDS.
import { readFileSync } from "node:fs";
import { Datapath } from "../../../agent/apply/datapath";
import { execRunner } from "../../../agent/apply/runner";
import { runCheck } from "../../../agent/vs/checks";
import { VirtualServiceHealthChecker } from "../../../agent/vs/health-checker";
import { zGatewaySpec } from "../../../core/spec/schema";

const [file, secondsText] = process.argv.slice(2);
const spec = zGatewaySpec.parse(JSON.parse(readFileSync(file as string, "utf8")));
const print = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, at: Date.now() })}\n`);
const datapath = new Datapath({ runner: execRunner({ defaultTimeoutMs: 10_000 }) });
const applied = await datapath.apply(spec, new Map());
if (!applied.ok) {
  process.stderr.write(`apply failed: ${applied.error}\n`);
  process.exit(2);
}
const checker = new VirtualServiceHealthChecker({
  runCheck,
  update: async (s, serviceId, down, drop) => {
    const error = await datapath.updateVirtualService(s, serviceId, down, drop);
    print({ event: "update", serviceId, down: [...down], error });
    return error;
  },
  log: (message) => print({ event: "log", message }),
});
checker.setSpec(spec);
print({ event: "ready" });
setTimeout(
  () => {
    checker.stop();
    print({ event: "status", status: checker.status() });
    process.exit(0);
  },
  Math.min(Number(secondsText ?? 60), 300) * 1000,
);
