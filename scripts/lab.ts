/**
 * npm run lab -- --console http://127.0.0.1:3000 --user admin [--gateways 2] [--minutes 60] [--keep-cluster]
 *
 * A failover lab on this machine, attached to a running console: network namespaces with N
 * gateways running the real agent, two ISPs, LAN clients sending a steady UDP stream (a datagram
 * every 10 ms) and an internet server. The cluster, its ISPs, pools, rule and gateways are created
 * through the console's API and the agents enroll with one-time tokens, exactly as on real
 * gateways. Watch the ISP cards on the console's Health page, click "Fail over", or break an ISP
 * here, and see the traffic move.
 *
 * The password comes from GATEHOUSE_LAB_PASSWORD (or --password, which shell history keeps).
 * Everything is removed on exit, on Ctrl-C, and after --minutes (the cluster too, unless
 * --keep-cluster). Needs root (network namespaces), nft, ip, conntrack and fping.
 */
import { emitKeypressEvents } from "node:readline";
import { parseArgs } from "node:util";
import type { IspName } from "../testkit/failover-lab/cluster-lab";
import { type LabSession, startLabSession } from "../testkit/failover-lab/lab-session";

const HELP = `Keys:
  a  cut ISP A's link (the router's ports go down), again to heal it
  b  the same for ISP B
  s  ISP A silently drops everything (link up, nothing answers), again to heal
  l  ISP A loses 30% of packets, again to heal
  q  quit and remove the lab (Ctrl-C too)
`;

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run lab -- --console URL --user NAME [--password PW] [--gateways N] [--minutes M] [--keep-cluster]\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      console: { type: "string" },
      user: { type: "string", default: "admin" },
      password: { type: "string" },
      gateways: { type: "string", default: "2" },
      minutes: { type: "string", default: "60" },
      "keep-cluster": { type: "boolean", default: false },
      name: { type: "string" },
    },
  });
  if (!values.console) usage("--console is required (the console's URL, e.g. http://127.0.0.1:3000)");
  const password = values.password ?? process.env.GATEHOUSE_LAB_PASSWORD;
  if (!password) usage("set GATEHOUSE_LAB_PASSWORD (or --password) to the admin's password");
  const gateways = Number(values.gateways);
  if (!Number.isInteger(gateways) || gateways < 1 || gateways > 20) usage("--gateways must be 1 to 20");
  const minutes = Number(values.minutes);
  if (!(minutes > 0 && minutes <= 240)) usage("--minutes must be more than 0 and at most 240");
  if (process.getuid?.() !== 0) usage("the lab creates network namespaces: run it as root");

  const say = (line: string) => process.stdout.write(`${line}\n`);
  let session: LabSession | null = null;
  let ending = false;
  const end = async (why: string) => {
    if (ending) return;
    ending = true;
    say(`\n${why}: removing the lab…`);
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    await session?.stop({ keepCluster: values["keep-cluster"] });
    say("the lab is gone");
    process.exit(0);
  };
  process.once("SIGINT", () => void end("interrupted"));
  process.once("SIGTERM", () => void end("terminated"));

  session = await startLabSession({
    consoleUrl: values.console,
    username: values.user,
    password,
    gateways,
    name: values.name,
    say,
  });
  const s = session;
  setTimeout(() => void end(`${minutes} minutes are up`), minutes * 60_000).unref();

  say(`\nThe lab runs. Open ${s.healthUrl}`);
  say(HELP);
  const broken: Record<string, boolean> = {};
  const toggle = async (key: string, isp: IspName, on: () => Promise<void>, off: () => Promise<void>, what: string) => {
    broken[key] = !broken[key];
    await (broken[key] ? on() : off());
    say(`${new Date().toLocaleTimeString()} ISP ${isp.toUpperCase()} ${broken[key] ? what : "healed"}`);
  };
  if (process.stdin.isTTY) {
    emitKeypressEvents(process.stdin);
    process.stdin.setRawMode(true);
    process.stdin.on("keypress", (_s: string, key: { name?: string; ctrl?: boolean }) => {
      const k = key.name ?? "";
      if (k === "q" || (key.ctrl && k === "c")) void end("quit");
      else if (k === "a")
        void toggle(
          "a",
          "a",
          () => s.lab.cut("a", "link"),
          () => s.lab.heal("a", "link"),
          "link cut",
        );
      else if (k === "b")
        void toggle(
          "b",
          "b",
          () => s.lab.cut("b", "link"),
          () => s.lab.heal("b", "link"),
          "link cut",
        );
      else if (k === "s")
        void toggle(
          "s",
          "a",
          () => s.lab.cut("a", "blackhole"),
          () => s.lab.heal("a", "blackhole"),
          "drops everything",
        );
      else if (k === "l")
        void toggle(
          "l",
          "a",
          () => s.lab.loss("a", 30),
          () => s.lab.loss("a", 0),
          "loses 30%",
        );
    });
  } else {
    say("(stdin is not a terminal: no keys; stop with Ctrl-C or SIGTERM)");
  }

  // where each client's traffic leaves, every two seconds
  const ispOf = (seen: string | null) =>
    seen === null ? "—" : s.lab.pools.a.includes(seen) ? "ISP A" : s.lab.pools.b.includes(seen) ? "ISP B" : seen;
  setInterval(() => {
    if (ending) return;
    const parts = s.streams.map((st, i) => {
      const gaps = st.events().filter((e) => e.event === "gap");
      const lastGap = gaps.at(-1);
      const client = s.lab.clients[i];
      return `${client?.address} via gw${client?.gateway}: ${ispOf(st.seenNow())}${lastGap ? ` (last gap ${lastGap.ms} ms)` : ""}`;
    });
    say(`${new Date().toLocaleTimeString()}  ${parts.join("   ")}`);
  }, 2000).unref();
}

main().catch((e: unknown) => {
  process.stderr.write(`lab failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
