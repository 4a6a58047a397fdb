"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Field, FormAlert, inputProps } from "@/app/components/field";
import { numberField } from "@/app/components/list-text";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { zInboundPacket } from "@/core/policy/simulate-inbound";
import { issueWords, joinLabel } from "@/core/policy/wording";

const LABELS: Record<string, string> = {
  src: "Client address",
  srcPort: "Client port",
  dst: "Virtual address",
  dstPort: "Port",
  protocol: "Protocol",
  mark: "Fwmark",
};

/** The mark typed ("0x10000000" or decimal); empty: none; other text stays text for the schema to name. */
const markOf = (t: string) => {
  const v = t.trim();
  if (v === "") return undefined;
  return /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : v;
};

const OUTCOME: Record<string, { label: string; cls: string }> = {
  "real-server": { label: "load balanced", cls: "ok" },
  sorry: { label: "sorry server", cls: "warn" },
  drop: { label: "dropped", cls: "danger" },
  "no-service": { label: "no virtual service", cls: "" },
};

/**
 * An inbound connection from a client to a virtual address: which virtual service takes it,
 * which real server the scheduler gives it (for the hash schedulers, the very server the gateway
 * picks), where DNAT sends it, and what FULLNAT makes of the client's address.
 */
export function InboundSimulator({ clusterId, revision }: { clusterId: string; revision: "draft" | number }) {
  const trpc = useTRPC();
  const [form, setForm] = useState({
    src: "",
    srcPort: "",
    dst: "",
    dstPort: "80",
    protocol: "tcp" as "tcp" | "udp",
    mark: "",
  });
  const [tried, setTried] = useState(false);
  const [input, setInput] = useState<{
    clusterId: string;
    revision: "draft" | number;
    packet: ReturnType<typeof zInboundPacket.parse>;
  } | null>(null);
  const set = <K extends keyof typeof form>(k: K, v: (typeof form)[K]) => setForm((f) => ({ ...f, [k]: v }));
  const checked = zInboundPacket.safeParse({
    src: form.src.trim(),
    srcPort: numberField(form.srcPort, undefined),
    dst: form.dst.trim(),
    dstPort: numberField(form.dstPort, undefined),
    protocol: form.protocol,
    mark: markOf(form.mark),
  });
  const e = (k: string): string[] | undefined => {
    if (!tried || checked.success) return undefined;
    const issue = checked.error.issues.find((i) => i.path[0] === k);
    return issue ? [joinLabel(LABELS[k] ?? k, issueWords(issue))] : undefined;
  };
  const result = useQuery({
    ...trpc.draft.simulateInbound.queryOptions(input as NonNullable<typeof input>, { enabled: input !== null }),
    placeholderData: keepPreviousData,
  });

  function submit(ev: FormEvent) {
    ev.preventDefault();
    setTried(true);
    if (!checked.success) return;
    setInput({ clusterId, revision, packet: checked.data });
  }

  const data = result.data;
  const o = data ? (OUTCOME[data.outcome] ?? { label: data.outcome, cls: "" }) : null;
  return (
    <section style={{ marginTop: 24 }} aria-labelledby="inbound-title">
      <h2 id="inbound-title">Inbound connection to a virtual service</h2>
      <form className="card" onSubmit={submit} aria-label="Inbound connection" noValidate style={{ marginBottom: 14 }}>
        <div className="form-grid-3">
          <Field id="in-src" label="Client address" errors={e("src")}>
            <input
              {...inputProps("in-src", e("src"))}
              className="mono"
              placeholder="192.0.2.10"
              value={form.src}
              onChange={(x) => set("src", x.target.value)}
            />
          </Field>
          <Field id="in-sport" label="Client port" hint="(optional)" errors={e("srcPort")}>
            <input
              {...inputProps("in-sport", e("srcPort"))}
              inputMode="numeric"
              value={form.srcPort}
              onChange={(x) => set("srcPort", x.target.value)}
            />
          </Field>
          <Field id="in-protocol" label="Protocol">
            <select
              id="in-protocol"
              value={form.protocol}
              onChange={(x) => set("protocol", x.target.value as "tcp" | "udp")}
            >
              <option value="tcp">tcp</option>
              <option value="udp">udp</option>
            </select>
          </Field>
          <Field id="in-dst" label="Virtual address" errors={e("dst")}>
            <input
              {...inputProps("in-dst", e("dst"))}
              className="mono"
              placeholder="203.0.113.80"
              value={form.dst}
              onChange={(x) => set("dst", x.target.value)}
            />
          </Field>
          <Field id="in-dport" label="Port" errors={e("dstPort")}>
            <input
              {...inputProps("in-dport", e("dstPort"))}
              inputMode="numeric"
              value={form.dstPort}
              onChange={(x) => set("dstPort", x.target.value)}
            />
          </Field>
          <Field
            id="in-mark"
            label="Fwmark"
            hint="(optional: the mark your rules set, for services chosen by fwmark)"
            errors={e("mark")}
          >
            <input
              {...inputProps("in-mark", e("mark"))}
              className="mono"
              placeholder="0x10000000"
              value={form.mark}
              onChange={(x) => set("mark", x.target.value)}
            />
          </Field>
          <div className="field" style={{ alignSelf: "end" }}>
            <button className="primary" type="submit" disabled={result.isFetching}>
              {result.isFetching ? "Simulating…" : "Simulate inbound"}
            </button>
          </div>
        </div>
      </form>
      {result.error && <FormAlert messages={[errorMessage(result.error)]} />}
      {data && o && (
        <article className="result" aria-label="Inbound result" aria-busy={result.isFetching}>
          <h3>
            {data.service ? `Virtual service ${data.service.name}` : "No virtual service"}{" "}
            <span className={`badge ${o.cls}`}>{o.label}</span>
          </h3>
          <p style={{ margin: "4px 0" }}>{data.summary}</p>
          <dl className="kv">
            <dt>Real server</dt>
            <dd className="mono">
              {data.realServer
                ? `${data.realServer.address}:${data.realServer.port} (weight ${data.realServer.weight})`
                : data.candidates.length > 0
                  ? `one of ${data.candidates.join(", ")}, per connection`
                  : "none"}
            </dd>
            <dt>DNAT</dt>
            <dd className="mono">{data.dnat ?? <span className="muted">none</span>}</dd>
            <dt>Client SNAT (FULLNAT)</dt>
            <dd>{data.snat ?? <span className="muted">none: the server sees the client's address</span>}</dd>
          </dl>
          {data.notes.length > 0 && (
            <ul className="small">
              {data.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
        </article>
      )}
    </section>
  );
}
