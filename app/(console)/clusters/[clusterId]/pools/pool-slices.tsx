"use client";

import { useQuery } from "@tanstack/react-query";
import type { PoolSlicesView } from "@/server/services/gateways/pool-slices";
import { useTRPC } from "@/app/lib/trpc";

const HA_WORDS: Record<PoolSlicesView["haMode"], string> = {
  none: "no high availability",
  active_standby: "an active/standby pair",
  active_active: "active/active",
};

/**
 * Which gateway SNATs to which pool addresses, and what each ISP must route to each gateway, as
 * the gateways run it (the published revision; the draft before the first publish).
 */
export function PoolSlices({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.pool.slices.queryOptions({ clusterId }));
  const view = q.data;
  if (q.error) return <div className="banner error">Could not load the gateways' slices: {q.error.message}</div>;
  if (!view) return null;
  const source = view.revision > 0 ? `revision ${view.revision}` : "the draft (nothing published yet)";

  return (
    <section aria-label="Gateway slices" style={{ marginTop: 18 }}>
      <h2>Gateway slices</h2>
      {!view.inForce ? (
        <p className="muted" data-testid="slices-off">
          {view.gateways.length <= 1
            ? `The cluster has ${view.gateways.length === 0 ? "no gateway" : "one gateway"}: it SNATs to every address of every pool.`
            : `The gateways are ${HA_WORDS[view.haMode]}: the active gateway SNATs to every address of every pool.`}{" "}
          With two or more gateways active at once, each gets its own slice of every pool.
        </p>
      ) : (
        <>
          <p className="muted small">
            {view.gateways.length} gateways are active at once, so each SNATs to its own slice of every pool (from{" "}
            {source}). A gateway joining or leaving moves only about its share of addresses.
          </p>
          <table className="data" aria-label="Addresses by gateway">
            <thead>
              <tr>
                <th>Pool</th>
                <th>Gateway</th>
                <th className="num">Addresses</th>
                <th>Owns</th>
              </tr>
            </thead>
            <tbody>
              {view.pools.flatMap((p) =>
                p.problem !== null
                  ? [
                      <tr key={p.poolId}>
                        <td>{p.name}</td>
                        <td colSpan={3} data-testid="slice-problem">
                          {p.problem}
                        </td>
                      </tr>,
                    ]
                  : p.slices.map((s) => (
                      <tr key={`${p.poolId}/${s.gatewayId}`} data-testid="slice-row">
                        <td>{p.name}</td>
                        <td>{s.gatewayName}</td>
                        <td className="num">{s.count.toLocaleString("en-US")}</td>
                        <td className="mono">{s.ranges.join(", ")}</td>
                      </tr>
                    )),
              )}
            </tbody>
          </table>
          <h3>What the upstream must route</h3>
          <p className="muted small">
            Each ISP routes a gateway's routed addresses to that gateway's own address on the ISP's link, and finds its
            on-link addresses by ARP; the blocks below are the fewest that cover each slice exactly.
          </p>
          <table className="data" aria-label="Upstream routes">
            <thead>
              <tr>
                <th>ISP</th>
                <th>Gateway</th>
                <th>Routes</th>
                <th>ARP (on-link)</th>
              </tr>
            </thead>
            <tbody>
              {view.upstream.map((u) => {
                const via =
                  u.linkAddress === null
                    ? `the gateway's address on ${u.interface} (not reported yet)`
                    : u.floating
                      ? `${u.linkAddress} (its floating address, which moves with its VRRP group)`
                      : u.linkAddress;
                return (
                  <tr key={`${u.ispId}/${u.gatewayId}`} data-testid="upstream-row">
                    <td>{u.ispName}</td>
                    <td>{u.gatewayName}</td>
                    <td className="mono">
                      {u.routed.map((c) => (
                        <div key={c}>
                          {c} via {via}
                        </div>
                      ))}
                    </td>
                    <td className="mono">{u.onLink.join(", ")}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
