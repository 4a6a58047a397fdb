/**
 * npm run bench:pool-usage [-- --lines N]
 *
 * How fast the agent tallies a conntrack listing per pool address (agent/health/conntrack-usage.ts)
 * and how much memory the tally holds: N generated `conntrack -L -n` lines (default 1,000,000:
 * a big gateway's table) over 256 pool addresses and 50,000 destinations, fed in 64 KiB chunks as
 * the listing streams. The dump itself (the kernel's and conntrack's share) is not included.
 *
 *   RESULT lines=<N> ms=<tally time> lines_per_s=<rate> kept_mb=<heap the tally keeps> peak_mb=<heap peak
 *          while tallying> destinations=<distinct destinations kept> partial=<the destination bound was hit>
 */
import { parseArgs } from "node:util";
import { endTally, newTally, tallyChunk, usageOf } from "../agent/health/conntrack-usage";

const { values } = parseArgs({ options: { lines: { type: "string", default: "1000000" } } });
const LINES = Number(values.lines);
const ADDRESSES = Array.from({ length: 256 }, (_, i) => `198.51.100.${i}`);

function listing(n: number): string[] {
  const chunks: string[] = [];
  let chunk = "";
  for (let i = 0; i < n; i++) {
    const pool = ADDRESSES[i % ADDRESSES.length];
    const d = i % 50_000;
    const dst = `203.0.${113 + (d >> 12)}.${(d >> 4) & 255}`;
    const dport = 443 + (d & 15);
    const udp = i % 10 === 0;
    chunk += udp
      ? `udp      17 29 src=100.64.${(i >> 8) & 255}.${i & 255} dst=${dst} sport=${1024 + (i % 60000)} dport=${dport} src=${dst} dst=${pool} sport=${dport} dport=${1024 + (i % 60000)} mark=0 use=1\n`
      : `tcp      6 431999 ESTABLISHED src=100.64.${(i >> 8) & 255}.${i & 255} dst=${dst} sport=${1024 + (i % 60000)} dport=${dport} src=${dst} dst=${pool} sport=${dport} dport=${1024 + (i % 60000)} [ASSURED] mark=0 use=1\n`;
    if (chunk.length >= 65_536) {
      chunks.push(chunk);
      chunk = "";
    }
  }
  chunks.push(chunk);
  return chunks;
}

function main() {
  const chunks = listing(LINES);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const started = performance.now();
  let tally = newTally(ADDRESSES);
  chunks.forEach((c, i) => {
    tallyChunk(tally, c);
    if (i % 64 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  });
  endTally(tally);
  const usage = usageOf(
    tally,
    ADDRESSES.map((address) => ({ poolId: "p", address, ports: 64_512 })),
  );
  const ms = performance.now() - started;
  const { lines, destinations, partial } = tally;
  // what the tally keeps (its destination maps): the heap with it and without it, collected
  global.gc?.();
  const withTally = process.memoryUsage().heapUsed;
  tally = newTally([]);
  global.gc?.();
  const keptMb = (withTally - process.memoryUsage().heapUsed) / 1024 / 1024;
  const peakMb = (heapPeak - heapBefore) / 1024 / 1024;
  if (lines !== LINES || usage.reduce((a, u) => a + u.tcp + u.udp, 0) !== LINES) {
    throw new Error(`tallied ${lines} lines, expected ${LINES}`);
  }
  console.log(
    `RESULT lines=${LINES} ms=${Math.round(ms)} lines_per_s=${Math.round(LINES / (ms / 1000))} kept_mb=${Math.round(keptMb)} peak_mb=${Math.round(peakMb)} destinations=${destinations} partial=${partial}`,
  );
}

main();
