import { setMaxListeners } from "node:events";
import { parseCommand, USAGE, UsageError } from "./cli/args";
import { EXIT, runCommand } from "./cli/commands";

/**
 * gatehouse-agent: keeps one gateway's nftables datapath in the state its Gatehouse console
 * publishes. Standalone (no Next.js); scripts/build-agent.ts bundles it into one file.
 */
async function main(argv: readonly string[]): Promise<number> {
  let cmd: ReturnType<typeof parseCommand>;
  try {
    cmd = parseCommand(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`gatehouse-agent: ${e.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  // only `run` has a loop to end; the other commands keep the default (exit at once)
  const stop = new AbortController();
  // every loop of `run` (probing, reporting, counters, pool usage, HA, ...) waits on this signal
  // at once: more than Node's default of 10 listeners, and no leak
  setMaxListeners(64, stop.signal);
  if (cmd.name === "run") {
    process.once("SIGTERM", () => stop.abort());
    process.once("SIGINT", () => stop.abort());
  }
  return runCommand(
    cmd,
    {
      io: { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
      signal: stop.signal,
    },
    USAGE,
  );
}

/**
 * Once a command is done the process ends, even if a request to the console is still hanging
 * (a stop must not wait for its timeout). The timer is unref'd: it only fires when something
 * else would keep the process alive, so output still flushes normally on a clean exit.
 */
function exitSoon(code: number) {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 500).unref();
}

main(process.argv.slice(2)).then(exitSoon, (e: unknown) => {
  process.stderr.write(`gatehouse-agent: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  exitSoon(EXIT.failed);
});
