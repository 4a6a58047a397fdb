"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { MatchedRuleHits } from "../rules/rule-hits";
import { useParams } from "next/navigation";
import { type FormEvent, useMemo, useState } from "react";
import { z } from "zod";
import { CheckField, Field, FormAlert, inputProps } from "@/app/components/field";
import { issueWords, joinLabel } from "@/core/policy/wording";
import { useClusterEntities } from "@/app/components/hooks";
import { numberField } from "@/app/components/list-text";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { ALGORITHM_LABELS, zInterfaceName, zIPv4, zPort } from "@/core/policy/model";
import type { RoutingChoice } from "@/core/policy/simulate";
import "@/app/components/editing.css";
import { InboundSimulator } from "./inbound";

// the packet as the simulator takes it; the server checks the same again
const zPacket = z.object({
  src: zIPv4,
  dst: zIPv4,
  protocol: z.enum(["tcp", "udp", "icmp"]),
  srcPort: zPort.optional(),
  dstPort: zPort.optional(),
  inInterface: zInterfaceName.optional(),
  mark: z.number("must be a number such as 0x10000000").int().min(0).max(0xffffffff, "must fit in 32 bits").optional(),
});

const OUTCOME: Record<string, { label: string; cls: string }> = {
  snat: { label: "SNAT", cls: "ok" },
  forward: { label: "forwarded without NAT", cls: "info" },
  drop: { label: "dropped", cls: "danger" },
  "not-egress": { label: "not Gatehouse's traffic", cls: "" },
};

const LABELS: Record<string, string> = {
  src: "Source address",
  dst: "Destination address",
  srcPort: "Source port",
  dstPort: "Destination port",
  inInterface: "Input interface",
  mark: "Mark",
  protocol: "Protocol",
};

type SimInput = {
  clusterId: string;
  revision: "draft" | number;
  failover: "current" | "none";
  packet: z.infer<typeof zPacket>;
  route: RoutingChoice;
};

/** The routing field: "route" (as the gateway's routing decides), "none", or "isp:<id>". */
type RoutingField = "route" | "none" | `isp:${string}`;

/**
 * The routing choice the form stands for. "As the gateway's routing decides" is a route over the
 * ISPs ticked as its next hops, in ISP order: one ISP is a plain route, several are spread by the
 * kernel's hash (ECMP), and the first is what the lookup before routing reports.
 */
function routingChoice(field: RoutingField, nextHops: string[]): RoutingChoice | null {
  if (field === "none") return { kind: "none" };
  if (field.startsWith("isp:")) return { kind: "isp", ispId: field.slice(4) };
  if (nextHops.length === 0) return null;
  return nextHops.length === 1 ? { kind: "isp", ispId: nextHops[0] as string } : { kind: "ecmp", ispIds: nextHops };
}

function resultTitle(route: SimInput["route"]["kind"] | undefined, ispName: string | null): string {
  if (ispName === null) return "If routing picks no ISP";
  return route === "ecmp"
    ? `If routing picks ${ispName} (the route's hash, per connection)`
    : `If routing picks ${ispName}`;
}

export default function SimulatePage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const { isps } = useClusterEntities(clusterId);
  const revisions = useQuery(trpc.revision.list.queryOptions({ clusterId, limit: 50 }));
  const [form, setForm] = useState({
    src: "",
    dst: "",
    protocol: "tcp" as "tcp" | "udp" | "icmp",
    srcPort: "",
    dstPort: "443",
    inInterface: "",
    mark: "",
    routing: "route" as RoutingField,
    /** ISPs not ticked as next hops of the route; every ISP is one until unticked */
    notNextHops: [] as string[],
    revision: "draft",
    failover: "current" as "current" | "none",
  });
  const [tried, setTried] = useState(false);
  const [input, setInput] = useState<SimInput | null>(null);
  const set = <K extends keyof typeof form>(k: K, v: (typeof form)[K]) => setForm((f) => ({ ...f, [k]: v }));

  const icmp = form.protocol === "icmp";
  const packet = {
    src: form.src.trim(),
    dst: form.dst.trim(),
    protocol: form.protocol,
    srcPort: icmp ? undefined : numberField(form.srcPort, undefined),
    dstPort: icmp ? undefined : numberField(form.dstPort, undefined),
    inInterface: form.inInterface.trim() === "" ? undefined : form.inInterface.trim(),
    mark:
      form.mark.trim() === ""
        ? undefined
        : /^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(form.mark)
          ? Number(form.mark)
          : Number.NaN,
  };
  const checked = zPacket.safeParse(packet);
  const ispList = (isps.data ?? []).map((i) => i.entity);
  const nextHops = ispList.filter((i) => !form.notNextHops.includes(i.id)).map((i) => i.id);
  const route = routingChoice(form.routing, nextHops);
  const routeErrors = tried && route === null ? ["Tick at least one ISP as a next hop of the route"] : undefined;
  // the packet's fields are not policy fields, so they are named here rather than by fieldLabel
  const e = (k: string): string[] | undefined => {
    if (!tried || checked.success) return undefined;
    const issue = checked.error.issues.find((i) => i.path[0] === k);
    if (!issue) return undefined;
    return [joinLabel(LABELS[k] ?? k, issueWords(issue))];
  };

  const result = useQuery({
    ...trpc.draft.simulate.queryOptions(input as SimInput, { enabled: input !== null }),
    placeholderData: keepPreviousData,
  });

  function submit(ev: FormEvent) {
    ev.preventDefault();
    setTried(true);
    if (!checked.success || route === null) return;
    setInput({
      clusterId,
      revision: form.revision === "draft" ? "draft" : Number(form.revision),
      failover: form.failover,
      packet: checked.data,
      route,
    });
  }

  const data = result.data;
  const ruleTitle = useMemo(() => {
    const rules = data?.rules ?? {};
    return (id: string) => rules[id]?.title ?? id;
  }, [data]);

  return (
    <>
      <div className="page-head">
        <h1>Packet simulator</h1>
        <span className="muted">
          runs the gateway's own decision on the compiled policy: what the rules do to one connection
        </span>
      </div>
      <form className="card" onSubmit={submit} aria-label="Packet" noValidate style={{ marginBottom: 14 }}>
        <div className="form-grid-3">
          <Field id="sim-src" label="Source address" errors={e("src")}>
            <input
              {...inputProps("sim-src", e("src"))}
              className="mono"
              placeholder="100.64.1.10"
              value={form.src}
              onChange={(x) => set("src", x.target.value)}
              autoFocus
            />
          </Field>
          <Field id="sim-dst" label="Destination address" errors={e("dst")}>
            <input
              {...inputProps("sim-dst", e("dst"))}
              className="mono"
              placeholder="198.51.100.200"
              value={form.dst}
              onChange={(x) => set("dst", x.target.value)}
            />
          </Field>
          <Field id="sim-protocol" label="Protocol">
            <select
              id="sim-protocol"
              value={form.protocol}
              onChange={(x) => set("protocol", x.target.value as typeof form.protocol)}
            >
              <option value="tcp">tcp</option>
              <option value="udp">udp</option>
              <option value="icmp">icmp</option>
            </select>
          </Field>
          <Field id="sim-sport" label="Source port" hint="(optional)" errors={e("srcPort")}>
            <input
              {...inputProps("sim-sport", e("srcPort"))}
              inputMode="numeric"
              disabled={icmp}
              value={icmp ? "" : form.srcPort}
              onChange={(x) => set("srcPort", x.target.value)}
            />
          </Field>
          <Field id="sim-dport" label="Destination port" hint="(optional)" errors={e("dstPort")}>
            <input
              {...inputProps("sim-dport", e("dstPort"))}
              inputMode="numeric"
              disabled={icmp}
              value={icmp ? "" : form.dstPort}
              onChange={(x) => set("dstPort", x.target.value)}
            />
          </Field>
          <Field
            id="sim-iif"
            label="Input interface"
            hint="(the LAN interface it comes in by; optional)"
            errors={e("inInterface")}
          >
            <input
              {...inputProps("sim-iif", e("inInterface"))}
              className="mono"
              value={form.inInterface}
              onChange={(x) => set("inInterface", x.target.value)}
            />
          </Field>
          <Field id="sim-mark" label="Mark" hint="(as your own rules set it; optional)" errors={e("mark")}>
            <input
              {...inputProps("sim-mark", e("mark"))}
              className="mono"
              value={form.mark}
              onChange={(x) => set("mark", x.target.value)}
            />
          </Field>
          <Field id="sim-routing" label="Routing" hint="(how the gateway picks the egress)">
            <select
              id="sim-routing"
              value={form.routing}
              onChange={(x) => set("routing", x.target.value as RoutingField)}
            >
              <option value="route">as the gateway's routing decides</option>
              {ispList.map((i) => (
                <option key={i.id} value={`isp:${i.id}`}>
                  through ISP {i.name}
                </option>
              ))}
              <option value="none">not through an ISP</option>
            </select>
          </Field>
          <Field id="sim-revision" label="Policy">
            <select id="sim-revision" value={form.revision} onChange={(x) => set("revision", x.target.value)}>
              <option value="draft">the draft (unpublished changes included)</option>
              {(revisions.data ?? []).map((r) => (
                <option key={r.number} value={String(r.number)}>
                  revision {r.number}: {r.message}
                </option>
              ))}
            </select>
          </Field>
          <Field id="sim-failover" label="Failover">
            <select
              id="sim-failover"
              value={form.failover}
              onChange={(x) => set("failover", x.target.value as typeof form.failover)}
            >
              <option value="current">as now (ISPs failed over stay so)</option>
              <option value="none">every ISP active</option>
            </select>
          </Field>
          {form.routing === "route" && (
            <fieldset
              className="field"
              aria-describedby={routeErrors ? "sim-nexthops-error" : undefined}
              style={{ gridColumn: "1 / -1", border: 0, padding: 0, margin: 0 }}
            >
              <legend>
                Next hops of the route{" "}
                <span className="hint">
                  (several: the kernel spreads connections over them by hash, ECMP; the first is what the lookup before
                  routing reports)
                </span>
              </legend>
              <div className="row">
                {ispList.map((i) => (
                  <CheckField key={i.id} id={`sim-nexthop-${i.id}`} label={i.name}>
                    <input
                      id={`sim-nexthop-${i.id}`}
                      type="checkbox"
                      checked={!form.notNextHops.includes(i.id)}
                      onChange={(x) =>
                        set(
                          "notNextHops",
                          x.target.checked ? form.notNextHops.filter((id) => id !== i.id) : [...form.notNextHops, i.id],
                        )
                      }
                    />
                  </CheckField>
                ))}
              </div>
              {routeErrors && (
                <div id="sim-nexthops-error" className="field-error" role="alert">
                  {routeErrors[0]}
                </div>
              )}
            </fieldset>
          )}
          <div className="field" style={{ alignSelf: "end" }}>
            <button className="primary" type="submit" disabled={result.isFetching}>
              {result.isFetching ? "Simulating…" : "Simulate"}
            </button>
          </div>
        </div>
      </form>

      {result.error && <FormAlert messages={[errorMessage(result.error)]} />}
      {data && (
        <section aria-label="Simulation result" aria-busy={result.isFetching}>
          <p className="muted small">
            {data.source === "draft" ? "The draft" : `Revision ${data.revision}`}, compiled to{" "}
            {data.entryCount.toLocaleString("en-US")} entries; traffic that matches no rule is{" "}
            {data.unmatched === "drop" ? "dropped" : "forwarded without NAT"}.
            {data.failedOver.length > 0 &&
              ` Failed over: ${data.failedOver.map((f) => `${f.from} → ${f.to}`).join(", ")}.`}
          </p>
          {data.results.map((r) => {
            const o = OUTCOME[r.outcome] ?? { label: r.outcome, cls: "" };
            return (
              <article
                key={r.routedIspId ?? "none"}
                className="result"
                aria-label={resultTitle(data.route, r.routedIspName)}
              >
                <h3>
                  {resultTitle(data.route, r.routedIspName)} <span className={`badge ${o.cls}`}>{o.label}</span>
                </h3>
                <p style={{ margin: "4px 0" }}>{r.summary}</p>
                <dl className="kv">
                  <dt>Matching rule</dt>
                  <dd>
                    {r.matched ? (
                      <>
                        {ruleTitle(r.matched.ruleId)}{" "}
                        <span className="muted small mono">
                          ({r.matched.entry.source}
                          {r.matched.entry.destination ? ` → ${r.matched.entry.destination}` : ""})
                        </span>
                      </>
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </dd>
                  {r.snat && (
                    <>
                      <dt>SNAT address</dt>
                      <dd className="mono">
                        {r.snat.masquerade !== undefined ? (
                          <span>current address of {r.snat.masquerade}</span>
                        ) : (
                          (r.snat.address ?? (
                            <span>
                              one of {r.snat.candidates.slice(0, 16).join(", ")}
                              {r.snat.candidates.length > 16 ? ` and ${r.snat.candidates.length - 16} more` : ""}
                            </span>
                          ))
                        )}
                      </dd>
                      <dt>Pool and algorithm</dt>
                      <dd>
                        {r.snat.poolName}, {r.snat.algorithm} (
                        {ALGORITHM_LABELS[r.snat.algorithm as keyof typeof ALGORITHM_LABELS] ?? r.snat.algorithm}),{" "}
                        {r.snat.candidates.length} address{r.snat.candidates.length === 1 ? "" : "es"}
                      </dd>
                    </>
                  )}
                  <dt>Next hop</dt>
                  <dd className="mono">
                    {r.route
                      ? `${r.route.nextHop ?? "?"} on ${r.route.interface ?? "?"} (ISP ${r.route.ispName})`
                      : "—"}
                  </dd>
                  {r.matched && (
                    <>
                      <dt>The rule's counters</dt>
                      <dd>
                        <MatchedRuleHits clusterId={clusterId} ruleId={r.matched.ruleId} />
                      </dd>
                    </>
                  )}
                </dl>
                {r.notes.length > 0 && (
                  <ul style={{ marginTop: 0 }}>
                    {r.notes.map((note) => (
                      <li key={note}>{note}</li>
                    ))}
                  </ul>
                )}
                {r.skippedTotal > 0 && (
                  <details open={r.skippedTotal <= 20}>
                    <summary>
                      Why the {r.skippedTotal.toLocaleString("en-US")} earlier rule{r.skippedTotal === 1 ? "" : "s"} did
                      not match
                    </summary>
                    <div className="scroll-list">
                      <table
                        className="data"
                        aria-label={`Rules that did not match via ${r.routedIspName ?? "no ISP"}`}
                      >
                        <thead>
                          <tr>
                            <th>Rule</th>
                            <th>Why not</th>
                          </tr>
                        </thead>
                        <tbody>
                          {r.skipped.map((s) => (
                            <tr key={s.ruleId}>
                              <td>{ruleTitle(s.ruleId)}</td>
                              <td>{s.reasons.join("; ")}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                    {r.hiddenSourceMisses > 0 && (
                      <p className="muted small">
                        {r.hiddenSourceMisses.toLocaleString("en-US")} more rules are not listed: their source does not
                        contain {input?.packet.src}.
                      </p>
                    )}
                  </details>
                )}
              </article>
            );
          })}
        </section>
      )}
      {!data && !result.error && (
        <div className="card empty">
          Enter a connection's first packet. The answer names the rule that decides it, why each earlier rule did not,
          the SNAT address and the next hop.
        </div>
      )}
      <InboundSimulator clusterId={clusterId} revision={form.revision === "draft" ? "draft" : Number(form.revision)} />
    </>
  );
}
