#!/usr/bin/env node
// Stands in for nft, ip and sysctl (linked under those names) when the agent process is tested
// without touching the host's datapath. It keeps the "kernel" state in $FAKE_DATAPATH_DIR and
// appends every call to calls.jsonl there.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const dir = process.env.FAKE_DATAPATH_DIR;
if (!dir) {
  process.stderr.write("FAKE_DATAPATH_DIR is not set\n");
  process.exit(2);
}
const tool = basename(process.argv[1] ?? "");
const args = process.argv.slice(2);
const statePath = join(dir, "state.json");
const state = existsSync(statePath)
  ? JSON.parse(readFileSync(statePath, "utf8"))
  : { loaded: null, chains: [], sets: [], maps: [], fingerprint: null };
appendFileSync(join(dir, "calls.jsonl"), `${JSON.stringify({ at: Date.now(), tool, args })}\n`);

const out = (v) => process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));
const names = (text, kind) =>
  [...text.matchAll(new RegExp(`^add ${kind} inet gatehouse (\\S+)`, "gm"))].map((m) => m[1]);
const list = (kind, items) => ({
  nftables: [
    { metainfo: { version: "1.0.6" } },
    ...items.map((name) => ({ [kind]: { family: "inet", table: "gatehouse", name } })),
  ],
});

function nft() {
  const a = args.join(" ");
  if (a === "--version") return out("nftables v1.0.6 (Lester Gooch #5)\n");
  if (a === "-j list tables inet") {
    return out({
      nftables: [{ metainfo: {} }, ...(state.loaded ? [{ table: { family: "inet", name: "gatehouse" } }] : [])],
    });
  }
  if (a === "-j list chains inet") return out(list("chain", state.chains));
  if (a === "-j -t list sets inet") return out(list("set", state.sets));
  if (a === "-j -t list maps inet") return out(list("map", state.maps));
  if (a === "-j list set inet gatehouse applied") {
    return out({
      nftables: [
        { metainfo: {} },
        { set: { family: "inet", table: "gatehouse", name: "applied", elem: [state.fingerprint] } },
      ],
    });
  }
  if (args[0] === "-c" && args[1] === "-f") {
    const failure = join(dir, "fail-check");
    if (existsSync(failure)) {
      process.stderr.write(readFileSync(failure, "utf8"));
      process.exit(1);
    }
    readFileSync(args[2], "utf8");
    return;
  }
  if (args[0] === "-f") {
    const text = readFileSync(args[1], "utf8");
    const fp = /^add element inet gatehouse applied \{ (0x[0-9a-f]+) \}/m.exec(text);
    writeFileSync(join(dir, "ruleset.nft"), text);
    const next = {
      loaded: Date.now(),
      chains: names(text, "chain"),
      sets: names(text, "set"),
      maps: names(text, "map"),
      fingerprint: fp ? Number(fp[1]) : null,
    };
    writeFileSync(statePath, JSON.stringify(next));
    return;
  }
  process.stderr.write(`fake nft: unexpected arguments: ${a}\n`);
  process.exit(1);
}

function ip() {
  const a = args.join(" ");
  if (a === "-j addr") {
    return out([
      { ifindex: 1, ifname: "lo", operstate: "UNKNOWN", mtu: 65536, addr_info: [{ local: "127.0.0.1", prefixlen: 8 }] },
      {
        ifindex: 2,
        ifname: "eth1",
        operstate: "UP",
        mtu: 1500,
        address: "02:00:00:00:00:01",
        addr_info: [{ local: "198.51.100.2", prefixlen: 24 }],
      },
    ]);
  }
  // the link watcher: no link ever changes here; it runs until the agent stops it
  if (a === "-o monitor link address") {
    setInterval(() => {}, 60_000);
    return;
  }
  if (a === "-j link show") return out([]);
  if (a === "-4 -j rule show" || a.startsWith("-4 -j route show") || a === "-4 -j addr show") return out("[]");
  if (/^-4 (rule|route|addr) (add|replace|del) /.test(a)) return;
  process.stderr.write(`fake ip: unexpected arguments: ${a}\n`);
  process.exit(1);
}

function sysctl() {
  if (args[0] === "-n") return out("0\n");
  if (args[0] === "-q" && args[1] === "-w") return;
  process.stderr.write(`fake sysctl: unexpected arguments: ${args.join(" ")}\n`);
  process.exit(1);
}

if (tool === "nft") nft();
else if (tool === "ip") ip();
else if (tool === "sysctl") sysctl();
else {
  process.stderr.write(`fake datapath: unknown tool ${tool}\n`);
  process.exit(2);
}
