"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { EntityChange, FieldChange, PolicyDiff } from "@/core/policy/diff";
import { Field } from "../../../../components/field";
import { errorMessage } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";
import { plural, Value } from "../../../audit/ui";

/** What changed between two revisions, entity by entity, and what it means for one gateway's nftables. */

const SECTIONS: Array<[keyof Pick<PolicyDiff, "isps" | "pools" | "zones" | "rules">, string]> = [
  ["isps", "ISPs"],
  ["pools", "Pools"],
  ["zones", "Zones"],
  ["rules", "Rules"],
];

const BADGE = { added: "ok", removed: "danger", changed: "warn" } as const;

function Fields({ fields, change }: { fields: FieldChange[]; change: EntityChange["change"] | "changed" }) {
  return (
    <table className="data">
      <tbody>
        {fields.map((f) => (
          <tr key={f.path} className={`hx-${change}`}>
            <td style={{ width: "28%" }}>{f.label}</td>
            {change !== "added" && (
              <td>
                <Value value={f.before} />
              </td>
            )}
            {change !== "removed" && (
              <td>
                <Value value={f.after} />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function PolicyDiffView({ clusterId, from, to }: { clusterId: string; from: number; to: number }) {
  const trpc = useTRPC();
  const diff = useQuery(trpc.revision.diff.queryOptions({ clusterId, from, to }));
  if (diff.isPending) return <div className="loading">Comparing revisions…</div>;
  if (diff.error) return <div className="banner error">{errorMessage(diff.error)}</div>;
  const d = diff.data;
  if (d.summary.total === 0) {
    return (
      <div className="card empty" role="status">
        Revisions {from} and {to} hold the same policy.
      </div>
    );
  }
  return (
    <section aria-label="Policy changes">
      <p className="small" role="status">
        {plural(d.summary.total, "change")}: {d.summary.added} added, {d.summary.changed} changed, {d.summary.removed}{" "}
        removed.
      </p>
      {d.settings.length > 0 && (
        <div className="hx-entity">
          <h4>
            Cluster settings <span className="badge warn">changed</span>
          </h4>
          <Fields fields={d.settings} change="changed" />
        </div>
      )}
      {SECTIONS.map(([key, title]) =>
        d[key].length === 0 ? null : (
          <section key={key}>
            <h3 style={{ fontSize: 14, margin: "14px 0 6px" }}>{title}</h3>
            {d[key].map((c) => (
              <div key={c.id} className="hx-entity">
                <h4>
                  {c.name} <span className={`badge ${BADGE[c.change]}`}>{c.change}</span>
                </h4>
                <Fields fields={c.fields} change={c.change} />
              </div>
            ))}
          </section>
        ),
      )}
    </section>
  );
}

export function RulesetDiffView({
  clusterId,
  from,
  to,
  gateways,
}: {
  clusterId: string;
  from: number;
  to: number;
  gateways: Array<{ id: string; name: string }>;
}) {
  const trpc = useTRPC();
  const [picked, setPicked] = useState<string | null>(null);
  const gatewayId = picked ?? gateways[0]?.id ?? null;
  const diff = useQuery(
    trpc.audit.rulesetDiff.queryOptions(
      { clusterId, gatewayId: gatewayId ?? "", from, to },
      { enabled: gatewayId !== null, staleTime: 60_000 },
    ),
  );
  if (gateways.length === 0) {
    return <p className="muted">The cluster has no gateways: there is no ruleset to compare.</p>;
  }
  const d = diff.data;
  return (
    <section aria-label="Ruleset changes">
      <Field id="nft-gateway" label="Gateway" inline style={{ marginBottom: 8 }}>
        <select
          id="nft-gateway"
          style={{ width: "auto" }}
          value={gatewayId ?? ""}
          onChange={(e) => setPicked(e.target.value)}
        >
          {gateways.map((g) => (
            <option key={g.id} value={g.id}>
              {g.name}
            </option>
          ))}
        </select>
        {d?.hunks && (
          <span className="small muted" role="status">
            {d.added} line{d.added === 1 ? "" : "s"} added, {d.removed} removed ({d.from.lines} → {d.to.lines} lines)
          </span>
        )}
      </Field>
      {diff.isPending && <div className="loading">Rendering both rulesets…</div>}
      {diff.error && <div className="banner error">{errorMessage(diff.error)}</div>}
      {d?.from.error && (
        <div className="banner error">
          Revision {from} does not compile for this gateway: {d.from.error}
        </div>
      )}
      {d?.to.error && (
        <div className="banner error">
          Revision {to} does not compile for this gateway: {d.to.error}
        </div>
      )}
      {d?.tooLarge && <div className="banner warn">The two rulesets differ too much to show a line diff.</div>}
      {d?.hunks?.length === 0 && <div className="card empty">Both revisions render the same nftables ruleset.</div>}
      {d?.hunks && d.hunks.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: it scrolls, so keyboard users must be able to reach it (axe scrollable-region-focusable)
        <pre className="hx-diff" title="nftables diff" tabIndex={0}>
          {d.hunks.map((h) => (
            <span key={`${h.oldStart}-${h.newStart}`}>
              <div className="hunk">{`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`}</div>
              {h.lines.map((l, i) => (
                <div key={i} className={l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : undefined}>
                  {l}
                </div>
              ))}
            </span>
          ))}
        </pre>
      )}
    </section>
  );
}
