"use client";

import type { Placement } from "@/core/policy/placement";
import { ruleName, rulePlace } from "@/core/policy/rule-name";
import { useMemo, useState } from "react";
import { EntityFormDialog, entityForm, useEntityForm } from "@/app/components/entity-form";
import { CheckField, Field, inputProps } from "@/app/components/field";
import { useClusterEntities } from "@/app/components/hooks";
import { fwmarkField, hexMark as hex, joinList, numberField, splitList } from "@/app/components/list-text";
import { type WarningItem, WarningSentences } from "@/app/components/warnings";
import { RuleCountersPanel } from "./rule-hits";
import {
  ALGORITHM_LABELS,
  ALGORITHMS,
  type Algorithm,
  ON_FAILOVER_LABELS,
  type OnFailover,
  PROTOCOLS,
  type Protocol,
  type Rule,
} from "@/core/policy/model";
import { ruleFailoverView } from "@/core/policy/rule-failover";
import { ON_FAILOVER } from "@/core/spec/failover-route";

const FIELD_KEYS = [
  "priority",
  "source",
  "source.zoneId",
  "source.cidrs",
  "destinations",
  "protocol",
  "dstPorts",
  "inInterfaces",
  "fwmark",
  "fwmark.value",
  "fwmark.mask",
  "egressIspId",
  "action",
  "action.poolId",
  "action.algorithm",
  "redirectIspId",
  "fallbackPoolId",
  "onFailover",
  "failoverIspId",
  "enabled",
  "comment",
];

interface FormState {
  priority: string;
  sourceKind: "zone" | "cidrs";
  zoneId: string;
  cidrs: string;
  destinations: string;
  protocol: Protocol;
  dstPorts: string;
  inInterfaces: string;
  markValue: string;
  markMask: string;
  egressIspId: string;
  actionType: "snat" | "exclude" | "drop";
  poolId: string;
  algorithm: Algorithm;
  redirectIspId: string;
  fallbackPoolId: string;
  onFailover: OnFailover;
  failoverIspId: string;
  enabled: boolean;
  comment: string;
}

function initialState(r: Rule | null): FormState {
  return {
    priority: r?.priority === null || r?.priority === undefined ? "" : String(r.priority),
    sourceKind: r?.source.kind ?? "cidrs",
    zoneId: r?.source.kind === "zone" ? r.source.zoneId : "",
    cidrs: r?.source.kind === "cidrs" ? joinList(r.source.cidrs) : "",
    destinations: joinList(r?.destinations ?? []),
    protocol: r?.protocol ?? "any",
    dstPorts: joinList(r?.dstPorts ?? []),
    inInterfaces: joinList(r?.inInterfaces ?? []),
    markValue: r?.fwmark ? hex(r.fwmark.value) : "",
    markMask: r?.fwmark ? hex(r.fwmark.mask) : "",
    egressIspId: r?.egressIspId ?? "",
    actionType: r?.action.type ?? "snat",
    poolId: r?.action.type === "snat" ? r.action.poolId : "",
    algorithm: r?.action.type === "snat" ? r.action.algorithm : "sh",
    redirectIspId: r?.redirectIspId ?? "",
    fallbackPoolId: r?.fallbackPoolId ?? "",
    onFailover: r?.onFailover ?? "follow",
    failoverIspId: r?.failoverIspId ?? "",
    enabled: r?.enabled ?? true,
    comment: r?.comment ?? "",
  };
}

const orUndefined = (s: string) => (s === "" ? undefined : s);
const orNull = (s: string) => (s === "" ? null : s);

function toFields(s: FormState) {
  return {
    priority: numberField(s.priority, null),
    source:
      s.sourceKind === "zone"
        ? { kind: "zone" as const, zoneId: orUndefined(s.zoneId) }
        : { kind: "cidrs" as const, cidrs: splitList(s.cidrs) },
    destinations: splitList(s.destinations),
    protocol: s.protocol,
    dstPorts: splitList(s.dstPorts),
    inInterfaces: splitList(s.inInterfaces),
    fwmark: fwmarkField(s.markValue, s.markMask),
    egressIspId: orNull(s.egressIspId),
    action:
      s.actionType === "snat"
        ? { type: "snat" as const, poolId: orUndefined(s.poolId), algorithm: s.algorithm }
        : { type: s.actionType },
    redirectIspId: orNull(s.redirectIspId),
    fallbackPoolId: s.actionType === "snat" && s.onFailover !== "stay" ? orNull(s.fallbackPoolId) : null,
    onFailover: s.onFailover,
    failoverIspId: s.onFailover === "own" ? orNull(s.failoverIspId) : null,
    enabled: s.enabled,
    comment: s.comment,
  };
}

const ruleForm = entityForm({
  kind: "rule",
  fieldKeys: FIELD_KEYS,
  initial: initialState,
  toFields,
});

export interface EditingRule {
  rule: Rule;
  version: number;
  position: number;
}

export function RuleForm({
  clusterId,
  editing,
  warnings,
  onClose,
  onMove,
  onDelete,
  onPlaced,
  listOrder = false,
}: {
  clusterId: string;
  editing: EditingRule | null;
  warnings?: readonly WarningItem[];
  onClose: () => void;
  onMove?: (to: number) => void;
  onDelete?: () => void;
  /** the saved rule's place in the effective order and why, as the API said it, and the place asked for */
  onPlaced?: (placement: Placement, wanted: number | null) => void;
  /** the cluster's rules apply in the order listed: a new rule can be put at a place */
  listOrder?: boolean;
}) {
  const { isps, pools, zones } = useClusterEntities(clusterId);
  const form = useEntityForm(ruleForm, {
    clusterId,
    editing: editing && { entity: editing.rule, version: editing.version },
    onClose,
    onSaved: (saved) => {
      const placement = (saved as { placement?: Placement | null }).placement;
      if (placement) onPlaced?.(placement, wantedPlace);
    },
  });
  const { state: s, set } = form;
  const e = form.errorsOf;
  const [moveTo, setMoveTo] = useState(editing ? String(editing.position) : "");
  // a new rule in list order: the place it goes to ("" for the end of the list)
  const [placeAt, setPlaceAt] = useState("");
  const wantedPlace = /^\d+$/.test(placeAt.trim()) && Number(placeAt) >= 1 ? Number(placeAt) : null;

  const ispList = isps.data ?? [];
  const poolList = pools.data ?? [];
  // the pools of the ISP the traffic leaves through come first: they are the ones that route back
  const exitIsp = s.redirectIspId || s.egressIspId;
  const poolGroups = [...ispList]
    .sort((a, b) => Number(b.entity.id === exitIsp) - Number(a.entity.id === exitIsp))
    .map((i) => ({ isp: i.entity, pools: poolList.filter((p) => p.entity.ispId === i.entity.id) }))
    .filter((g) => g.pools.length > 0);
  const poolOptions = (
    <>
      {poolGroups.map((g) => (
        <optgroup key={g.isp.id} label={`ISP ${g.isp.name}${g.isp.id === exitIsp ? " (this rule's exit)" : ""}`}>
          {g.pools.map((p) => (
            <option key={p.entity.id} value={p.entity.id}>
              {p.entity.name}
            </option>
          ))}
        </optgroup>
      ))}
    </>
  );

  // the effective failover pool of the rule as it stands in the form, in one sentence
  const failoverSentence = useMemo(() => {
    if (isps.data === undefined || pools.data === undefined) return "Loading the ISPs' failover plans…";
    const f = toFields(s);
    const action =
      f.action.type === "snat"
        ? f.action.poolId === undefined
          ? null
          : { ...f.action, poolId: f.action.poolId }
        : { type: f.action.type };
    if (action === null) return "Choose a pool to see where this rule's traffic goes on failover.";
    if (f.onFailover === "own" && f.failoverIspId === null) return "Choose the rule's own backup ISP.";
    return ruleFailoverView(
      { isps: isps.data.map((i) => i.entity), pools: pools.data.map((p) => p.entity) },
      { ...f, action: action as Rule["action"] },
    ).explanation;
  }, [s, isps.data, pools.data]);

  return (
    <EntityFormDialog
      form={form}
      title={editing ? `Edit rule ${rulePlace(editing.position)}` : "New rule"}
      intro={
        <>
          {editing && (
            <p className="muted small" style={{ marginTop: 0 }}>
              {ruleName(editing.position, editing.rule)}
              {editing.rule.priority !== null ? `, priority ${editing.rule.priority}` : ", no priority"}
            </p>
          )}
          <WarningSentences warnings={warnings} />
          {editing && <RuleCountersPanel clusterId={clusterId} ruleId={editing.rule.id} />}
        </>
      }
      leadingAction={
        editing &&
        onDelete && (
          <button type="button" className="danger" onClick={onDelete} style={{ marginRight: "auto" }}>
            Delete rule
          </button>
        )
      }
    >
      <fieldset>
        <legend>Match</legend>
        <div className="form-grid">
          <Field id="rule-source-kind" label="Source">
            <select
              id="rule-source-kind"
              value={s.sourceKind}
              onChange={(x) => set("sourceKind", x.target.value as FormState["sourceKind"])}
              data-autofocus
            >
              <option value="cidrs">networks</option>
              <option value="zone">a zone</option>
            </select>
          </Field>
          {s.sourceKind === "zone" ? (
            <Field id="rule-zone" label="Source zone" errors={e("source.zoneId") ?? e("source")}>
              <select
                {...inputProps("rule-zone", e("source.zoneId") ?? e("source"))}
                value={s.zoneId}
                onChange={(x) => set("zoneId", x.target.value)}
              >
                <option value="">Choose a zone…</option>
                {(zones.data ?? []).map((z) => (
                  <option key={z.entity.id} value={z.entity.id}>
                    {z.entity.name} ({z.entity.networks.length} network{z.entity.networks.length === 1 ? "" : "s"})
                  </option>
                ))}
              </select>
            </Field>
          ) : (
            <Field
              id="rule-cidrs"
              label="Source networks"
              hint="(a.b.c.d/len, comma separated)"
              errors={e("source.cidrs") ?? e("source")}
            >
              <input
                {...inputProps("rule-cidrs", e("source.cidrs") ?? e("source"))}
                className="mono"
                value={s.cidrs}
                onChange={(x) => set("cidrs", x.target.value)}
              />
            </Field>
          )}
          <Field id="rule-destinations" label="Destinations" hint="(empty: any destination)" errors={e("destinations")}>
            <input {...form.bind("destinations", "rule-destinations")} className="mono" />
          </Field>
          <Field id="rule-protocol" label="Protocol" errors={e("protocol")}>
            <select {...form.bind("protocol", "rule-protocol")}>
              {PROTOCOLS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </Field>
          <Field
            id="rule-ports"
            label="Destination ports"
            hint="(tcp or udp; 443, 8000-8100; empty: any)"
            errors={e("dstPorts")}
          >
            <input {...form.bind("dstPorts", "rule-ports", "dstPorts")} className="mono" />
          </Field>
          <Field
            id="rule-iif"
            label="Input interfaces"
            hint="(as named on every gateway; empty: any)"
            errors={e("inInterfaces")}
          >
            <input {...form.bind("inInterfaces", "rule-iif", "inInterfaces")} className="mono" />
          </Field>
          <Field
            id="rule-mark"
            label="Fwmark value"
            hint="(set by your own rules, in bits 0xf0000000; empty: any)"
            errors={e("fwmark.value") ?? e("fwmark")}
          >
            <input {...form.bind("markValue", "rule-mark", "fwmark.value")} className="mono" />
          </Field>
          <Field id="rule-mark-mask" label="Fwmark mask" hint="(empty: 0xf0000000)" errors={e("fwmark.mask")}>
            <input {...form.bind("markMask", "rule-mark-mask", "fwmark.mask")} className="mono" />
          </Field>
          <Field
            id="rule-egress"
            label="Egress ISP"
            hint="(the ISP routing picked for the connection)"
            errors={e("egressIspId")}
            className="span-2"
          >
            <select {...form.bind("egressIspId", "rule-egress")}>
              <option value="">any ISP</option>
              {ispList.map((i) => (
                <option key={i.entity.id} value={i.entity.id}>
                  {i.entity.name} ({i.entity.interface}, next hop {i.entity.nextHop})
                </option>
              ))}
            </select>
          </Field>
        </div>
      </fieldset>
      <fieldset>
        <legend>Action</legend>
        <div className="form-grid">
          <Field id="rule-action" label="Action" errors={e("action")}>
            <select {...form.bind("actionType", "rule-action", "action")}>
              <option value="snat">SNAT to a pool</option>
              <option value="exclude">exclude: forward without NAT</option>
              <option value="drop">drop</option>
            </select>
          </Field>
          {s.actionType === "snat" && (
            <>
              <Field id="rule-pool" label="SNAT pool" errors={e("action.poolId")}>
                <select {...form.bind("poolId", "rule-pool", "action.poolId")}>
                  <option value="">Choose a pool…</option>
                  {poolOptions}
                </select>
              </Field>
              <Field id="rule-algorithm" label="Algorithm" errors={e("action.algorithm")}>
                <select {...form.bind("algorithm", "rule-algorithm", "action.algorithm")}>
                  {ALGORITHMS.map((a) => (
                    <option key={a} value={a}>
                      {a}: {ALGORITHM_LABELS[a]}
                    </option>
                  ))}
                </select>
              </Field>
            </>
          )}
          <Field
            id="rule-redirect"
            label="Redirect via"
            hint="(send matching traffic through another ISP's next hop)"
            errors={e("redirectIspId")}
            className="span-2"
          >
            <select {...form.bind("redirectIspId", "rule-redirect")}>
              <option value="">no redirect</option>
              {ispList.map((i) => (
                <option key={i.entity.id} value={i.entity.id}>
                  {i.entity.name} (next hop {i.entity.nextHop})
                </option>
              ))}
            </select>
          </Field>
        </div>
      </fieldset>
      <fieldset>
        <legend>On failover</legend>
        <div className="form-grid">
          <Field id="rule-on-failover" label="When its ISP fails over" errors={e("onFailover")}>
            <select {...form.bind("onFailover", "rule-on-failover")}>
              {ON_FAILOVER.map((o) => (
                <option key={o} value={o}>
                  {ON_FAILOVER_LABELS[o]}
                </option>
              ))}
            </select>
          </Field>
          {s.onFailover === "own" && (
            <Field id="rule-failover-isp" label="Own backup ISP" errors={e("failoverIspId")}>
              <select {...form.bind("failoverIspId", "rule-failover-isp")}>
                <option value="">Choose an ISP…</option>
                {ispList
                  .filter((i) => i.entity.id !== exitIsp)
                  .map((i) => (
                    <option key={i.entity.id} value={i.entity.id}>
                      {i.entity.name} (next hop {i.entity.nextHop})
                    </option>
                  ))}
              </select>
            </Field>
          )}
          {s.actionType === "snat" && s.onFailover !== "stay" && (
            <Field
              id="rule-fallback"
              label={s.onFailover === "own" ? "Pool on the own backup" : "Fallback pool"}
              hint={
                s.onFailover === "own" ? "(empty: that ISP's default pool)" : "(empty: the backup ISP's default pool)"
              }
              errors={e("fallbackPoolId")}
            >
              <select {...form.bind("fallbackPoolId", "rule-fallback")}>
                <option value="">none</option>
                {poolOptions}
              </select>
            </Field>
          )}
        </div>
        <p className="muted small" data-testid="rule-failover-effect" aria-live="polite">
          {failoverSentence}
        </p>
      </fieldset>
      <div className="form-grid">
        <Field
          id="rule-priority"
          label="Priority"
          hint="(lower first; empty: ordered by specificity after all rules with one)"
          errors={e("priority")}
        >
          <input {...form.bind("priority", "rule-priority")} inputMode="numeric" />
        </Field>
        <CheckField id="rule-enabled" label="Enabled" style={{ paddingTop: 22 }}>
          <input
            id="rule-enabled"
            type="checkbox"
            checked={s.enabled}
            onChange={(x) => set("enabled", x.target.checked)}
          />
        </CheckField>
        <Field id="rule-comment" label="Comment" errors={e("comment")} className="span-2">
          <input {...form.bind("comment", "rule-comment")} />
        </Field>
      </div>
      {!editing && listOrder && (
        <fieldset>
          <legend>Place in the list</legend>
          <Field
            id="rule-place-at"
            label="Put it at #"
            hint="(empty: at the end; rules apply in the order listed)"
            inline
            style={{ marginBottom: 10 }}
          >
            <input
              id="rule-place-at"
              inputMode="numeric"
              style={{ width: 100 }}
              value={placeAt}
              onChange={(x) => setPlaceAt(x.target.value)}
            />
          </Field>
        </fieldset>
      )}
      {editing && onMove && (
        <fieldset>
          <legend>Place in the rule order</legend>
          <Field id="rule-move-to" label="Move to #" inline style={{ marginBottom: 10 }}>
            <input
              id="rule-move-to"
              inputMode="numeric"
              style={{ width: 100 }}
              value={moveTo}
              onChange={(x) => setMoveTo(x.target.value)}
              onKeyDown={(x) => {
                if (x.key === "Enter") {
                  x.preventDefault();
                  const n = Number(moveTo);
                  if (Number.isInteger(n) && n >= 1) onMove(n);
                }
              }}
            />
            <button
              type="button"
              disabled={!/^\d+$/.test(moveTo.trim()) || Number(moveTo) < 1 || Number(moveTo) === editing.position}
              onClick={() => onMove(Number(moveTo))}
            >
              Move
            </button>
            <span className="muted small">sets priorities; you see every change before it is made</span>
          </Field>
        </fieldset>
      )}
    </EntityFormDialog>
  );
}
