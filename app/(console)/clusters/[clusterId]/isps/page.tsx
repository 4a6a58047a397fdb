"use client";

import { useParams } from "next/navigation";
import { useState } from "react";
import { EntityFormDialog, type EntityFormProps, entityForm, useEntityForm } from "@/app/components/entity-form";
import { EntityTable, NameCell, TableStatus, useRowDialogs } from "@/app/components/entity-table";
import type { VersionedRow } from "@/app/components/entity-kinds";
import { CheckField, Field, inputProps } from "@/app/components/field";
import { useCanEdit, useClusterEntities } from "@/app/components/hooks";
import { joinList, numberField, splitList } from "@/app/components/list-text";
import { countOf, NewButton, PageHead } from "@/app/components/page-head";
import { SortHeader, useSortedRows } from "@/app/components/sort-header";
import { FilterSelect, NameOptions, SearchControl } from "@/app/components/toolbar";
import { useDraftWarnings, WarningList } from "@/app/components/warnings";
import {
  ADDRESSING_LABELS,
  ADDRESSING_VALUES,
  type Addressing,
  type Isp,
  type Monitor,
  POOL_MODE_LABELS,
  POOL_MODES,
  type PoolMode,
  zMonitor,
} from "@/core/policy/model";

type MonitorKey = keyof Monitor;
const MONITOR_FIELDS: Array<{ key: MonitorKey; label: string; unit: string }> = [
  { key: "intervalMs", label: "Probe interval", unit: "ms" },
  { key: "downAfter", label: "Lost probes before down", unit: "probes" },
  { key: "upAfter", label: "Good probes before up", unit: "probes" },
  { key: "holdDownMs", label: "Hold-down before failback", unit: "ms" },
  { key: "lossThresholdPct", label: "Loss threshold", unit: "%" },
  { key: "latencyThresholdMs", label: "Latency threshold", unit: "ms" },
];
const DEFAULT_MONITOR = zMonitor.parse(undefined);

const FIELD_KEYS = [
  "name",
  "interface",
  "addressing",
  "nextHop",
  "localAddress",
  "probeTargets",
  ...MONITOR_FIELDS.map((f) => `monitor.${f.key}`),
  "monitor",
  "failoverMode",
  "failbackMode",
  "flushOnFailback",
  "backupIspIds",
  "defaultPoolId",
  "comment",
  "newPool.name",
  "newPool.mode",
  "newPool.addresses",
  "newPool",
];

interface FormState {
  name: string;
  interface: string;
  addressing: Addressing;
  nextHop: string;
  localAddress: string;
  probeTargets: string;
  monitor: Record<MonitorKey, string>;
  failoverMode: "manual" | "automatic";
  failbackMode: "manual" | "automatic";
  flushOnFailback: boolean;
  backups: string[];
  defaultPoolId: string;
  comment: string;
  /** a new ISP's first pool, created with it when addresses are given */
  poolName: string;
  poolMode: PoolMode;
  poolAddresses: string;
}

function initialState(isp: Isp | null): FormState {
  const m = isp?.monitor ?? DEFAULT_MONITOR;
  return {
    name: isp?.name ?? "",
    interface: isp?.interface ?? "",
    addressing: isp?.addressing ?? "static",
    nextHop: isp?.nextHop ?? "",
    localAddress: isp?.localAddress ?? "",
    probeTargets: joinList(isp?.probeTargets ?? []),
    monitor: Object.fromEntries(MONITOR_FIELDS.map((f) => [f.key, String(m[f.key])])) as Record<MonitorKey, string>,
    failoverMode: isp?.failoverMode ?? "manual",
    failbackMode: isp?.failbackMode ?? "manual",
    flushOnFailback: isp?.flushOnFailback ?? false,
    backups: [...(isp?.backupIspIds ?? [])],
    defaultPoolId: isp?.defaultPoolId ?? "",
    comment: isp?.comment ?? "",
    poolName: "",
    poolMode: "routed",
    poolAddresses: "",
  };
}

/** The name a new ISP's first pool gets when none is typed. */
const poolNameFor = (ispName: string) => `${ispName.trim() || "isp"}-pool`;

function toFields(s: FormState) {
  return {
    name: s.name,
    interface: s.interface.trim(),
    addressing: s.addressing,
    nextHop: s.nextHop,
    localAddress: s.localAddress.trim() === "" ? null : s.localAddress,
    probeTargets: splitList(s.probeTargets),
    monitor: Object.fromEntries(MONITOR_FIELDS.map((f) => [f.key, numberField(s.monitor[f.key], undefined)])),
    failoverMode: s.failoverMode,
    failbackMode: s.failbackMode,
    flushOnFailback: s.flushOnFailback,
    backupIspIds: s.backups,
    defaultPoolId: s.defaultPoolId === "" ? null : s.defaultPoolId,
    comment: s.comment,
  };
}

const ispForm = entityForm({
  kind: "isp",
  fieldKeys: FIELD_KEYS,
  initial: initialState,
  toFields,
  // addresses typed in: the ISP and its first pool, which becomes its default pool, in one edit
  createWith: (client, clusterId, fields, s) =>
    splitList(s.poolAddresses).length === 0 && s.poolMode !== "interface"
      ? undefined
      : client.isp.createWithPool.mutate({
          clusterId,
          fields,
          newPool: {
            name: s.poolName.trim() || poolNameFor(s.name),
            mode: s.poolMode,
            addresses: splitList(s.poolAddresses),
          },
        }),
});

function IspForm({ clusterId, editing, onClose }: EntityFormProps<Isp>) {
  const { isps, pools } = useClusterEntities(clusterId);
  const form = useEntityForm(ispForm, { clusterId, editing, onClose });
  const { state: s, set } = form;
  const e = form.errorsOf;

  const others = (isps.data ?? []).filter((i) => i.entity.id !== editing?.entity.id);
  const ownPools = (pools.data ?? []).filter((p) => editing && p.entity.ispId === editing.entity.id);
  const nameOf = (id: string) => isps.data?.find((i) => i.entity.id === id)?.entity.name ?? id;
  const addable = others.filter((o) => !s.backups.includes(o.entity.id));
  const move = (i: number, d: -1 | 1) => {
    const b = [...s.backups];
    const j = i + d;
    if (j < 0 || j >= b.length) return;
    [b[i], b[j]] = [b[j] as string, b[i] as string];
    set("backups", b);
  };

  return (
    <EntityFormDialog form={form} title={editing ? `Edit ISP ${editing.entity.name}` : "New ISP"}>
      <div className="form-grid">
        <Field id="isp-name" label="Name" errors={e("name")}>
          <input {...form.bind("name", "isp-name")} data-autofocus />
        </Field>
        <Field id="isp-interface" label="Egress interface" hint="(e.g. eth1)" errors={e("interface")}>
          <input {...form.bind("interface", "isp-interface")} className="mono" />
        </Field>
        <Field
          id="isp-addressing"
          label="Addressing"
          hint="(DHCP, PPPoE: the gateway follows the address and next hop its client gets)"
          errors={e("addressing")}
        >
          <select {...form.bind("addressing", "isp-addressing")}>
            {ADDRESSING_VALUES.map((a) => (
              <option key={a} value={a}>
                {ADDRESSING_LABELS[a]}
              </option>
            ))}
          </select>
        </Field>
        <Field
          id="isp-nexthop"
          label="Next hop"
          hint={
            s.addressing === "static"
              ? "(the ISP's gateway address)"
              : "(used until the gateway learns one from its DHCP lease or PPP peer)"
          }
          errors={e("nextHop")}
        >
          <input {...form.bind("nextHop", "isp-nexthop")} className="mono" />
        </Field>
        <Field
          id="isp-local-address"
          label="Link address"
          hint="(the gateway's address/prefix on this link, e.g. 198.51.100.2/24; needed by on-link pools)"
          errors={e("localAddress")}
        >
          <input {...form.bind("localAddress", "isp-local-address")} className="mono" />
        </Field>
        <Field
          id="isp-probes"
          label="Probe targets"
          hint="(addresses, comma separated; empty: the next hop)"
          errors={e("probeTargets")}
        >
          <input {...form.bind("probeTargets", "isp-probes")} className="mono" />
        </Field>
      </div>
      <fieldset>
        <legend>Monitor</legend>
        <div className="form-grid-3">
          {MONITOR_FIELDS.map((f) => {
            const key = `monitor.${f.key}`;
            const id = `isp-monitor-${f.key}`;
            return (
              <Field key={f.key} id={id} label={f.label} hint={`(${f.unit})`} errors={e(key)}>
                <input
                  {...inputProps(id, e(key))}
                  inputMode="numeric"
                  value={s.monitor[f.key]}
                  onChange={(x) => set("monitor", { ...s.monitor, [f.key]: x.target.value })}
                />
              </Field>
            );
          })}
        </div>
      </fieldset>
      <fieldset>
        <legend>Failover</legend>
        <div className="form-grid">
          <Field id="isp-failover" label="Failover" errors={e("failoverMode")}>
            <select {...form.bind("failoverMode", "isp-failover")}>
              <option value="manual">manual: an operator switches</option>
              <option value="automatic">automatic: when probes say it is down</option>
            </select>
          </Field>
          <Field id="isp-failback" label="Failback" errors={e("failbackMode")}>
            <select {...form.bind("failbackMode", "isp-failback")}>
              <option value="manual">manual: an operator switches back</option>
              <option value="automatic">automatic: after hysteresis and hold-down</option>
            </select>
          </Field>
          <CheckField
            id="isp-flush"
            label="Flush the connections moved to the backup when failing back"
            className="span-2"
          >
            <input
              id="isp-flush"
              type="checkbox"
              checked={s.flushOnFailback}
              onChange={(x) => set("flushOnFailback", x.target.checked)}
            />
          </CheckField>
          <Field
            id="isp-backup-add"
            label="Backup ISPs"
            hint="(in order of preference; the first healthy one is used)"
            errors={e("backupIspIds")}
            className="span-2"
          >
            {s.backups.length === 0 && <div className="muted small">No backups.</div>}
            <ol className="ordered-list" aria-label="Backup ISPs in order">
              {s.backups.map((id, i) => (
                <li key={id}>
                  <span className="badge">{i + 1}</span>
                  <span className="grow">{nameOf(id)}</span>
                  <button
                    type="button"
                    aria-label={`Move ${nameOf(id)} up`}
                    disabled={i === 0}
                    onClick={() => move(i, -1)}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    aria-label={`Move ${nameOf(id)} down`}
                    disabled={i === s.backups.length - 1}
                    onClick={() => move(i, 1)}
                  >
                    ↓
                  </button>
                  <button
                    type="button"
                    aria-label={`Remove backup ${nameOf(id)}`}
                    onClick={() =>
                      set(
                        "backups",
                        s.backups.filter((b) => b !== id),
                      )
                    }
                  >
                    Remove
                  </button>
                </li>
              ))}
            </ol>
            <select
              value=""
              disabled={addable.length === 0}
              onChange={(x) => x.target.value && set("backups", [...s.backups, x.target.value])}
              {...inputProps("isp-backup-add", e("backupIspIds"))}
            >
              <option value="">{addable.length === 0 ? "No other ISP to add" : "Add a backup ISP…"}</option>
              <NameOptions items={addable} />
            </select>
          </Field>
          {editing && (
            <Field
              id="isp-default-pool"
              label="Default pool"
              hint="(the addresses traffic gets when it fails over to this ISP without a pool of its own)"
              errors={e("defaultPoolId")}
              className="span-2"
            >
              <select {...form.bind("defaultPoolId", "isp-default-pool")}>
                <option value="">none</option>
                <NameOptions items={ownPools} />
              </select>
            </Field>
          )}
        </div>
      </fieldset>
      {!editing && (
        <fieldset>
          <legend>Addresses</legend>
          <p className="muted small">
            The SNAT addresses this ISP gives you. They become its first pool and its default pool, used when traffic
            fails over to this ISP. Leave them empty to add pools later, or pick the mode "interface address" for the
            address the interface has (DHCP, PPPoE).
          </p>
          <div className="form-grid">
            <Field
              id="isp-pool-addresses"
              label="Pool addresses"
              hint="(addresses, ranges a.b.c.d-e, networks; commas, spaces or one per line)"
              errors={e("newPool.addresses")}
              className="span-2"
            >
              <textarea
                {...form.bind("poolAddresses", "isp-pool-addresses", "newPool.addresses")}
                className="mono"
                rows={2}
              />
            </Field>
            <Field id="isp-pool-name" label="Pool" hint="(what the pool is called)" errors={e("newPool.name")}>
              <input {...form.bind("poolName", "isp-pool-name", "newPool.name")} placeholder={poolNameFor(s.name)} />
            </Field>
            <Field
              id="isp-pool-mode"
              label="Pool mode"
              hint="(routed: the ISP routes them to the gateway; on-link: in the link's subnet)"
              errors={e("newPool.mode")}
            >
              <select {...form.bind("poolMode", "isp-pool-mode", "newPool.mode")}>
                {POOL_MODES.map((m) => (
                  <option key={m} value={m}>
                    {POOL_MODE_LABELS[m]}
                  </option>
                ))}
              </select>
            </Field>
          </div>
        </fieldset>
      )}
      <Field id="isp-comment" label="Comment" errors={e("comment")}>
        <input {...form.bind("comment", "isp-comment")} />
      </Field>
    </EntityFormDialog>
  );
}

type SortKey = "name" | "interface" | "nextHop" | "failover" | "index";

export default function IspsPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const canEdit = useCanEdit();
  const { isps, pools, names } = useClusterEntities(clusterId);
  const warnings = useDraftWarnings(clusterId);
  const [search, setSearch] = useState("");
  const [mode, setMode] = useState<"" | "manual" | "automatic">("");
  const dialogs = useRowDialogs<VersionedRow<Isp>>();

  const rows = isps.data ?? [];
  const { sorted, sort, setSort } = useSortedRows<(typeof rows)[number], SortKey>(
    rows,
    "index",
    (r, k) => (k === "failover" ? r.entity.failoverMode : k === "index" ? r.entity.index : String(r.entity[k] ?? "")),
    (r) => [r.entity.name, r.entity.interface, r.entity.nextHop, r.entity.comment, ...r.entity.probeTargets].join(" "),
    search,
    (r) => mode === "" || r.entity.failoverMode === mode,
  );

  return (
    <>
      <PageHead title="ISPs" note={countOf(rows.length, "uplink")}>
        {canEdit && <NewButton kind="isp" onClick={dialogs.openNew} />}
      </PageHead>
      <WarningList warnings={warnings.all.filter((w) => w.entity === "isp")} label="ISP warnings" />
      <div className="toolbar">
        <SearchControl id="isp-search" placeholder="name, interface, address" value={search} onChange={setSearch} />
        <FilterSelect id="isp-mode" label="Failover" value={mode} onChange={(v) => setMode(v as typeof mode)}>
          <option value="">any</option>
          <option value="manual">manual</option>
          <option value="automatic">automatic</option>
        </FilterSelect>
      </div>
      <TableStatus
        list={isps}
        shown={sorted.length}
        loading="Loading ISPs…"
        empty={<>No ISPs yet. {canEdit ? "Add the cluster's uplinks first: pools and rules refer to them." : ""}</>}
        noMatch="No ISP matches the search."
      />
      <EntityTable
        kind="isp"
        label="ISPs"
        clusterId={clusterId}
        rows={sorted}
        canEdit={canEdit}
        dialogs={dialogs}
        header={
          <>
            <SortHeader label="#" column="index" sort={sort} onSort={setSort} />
            <SortHeader label="Name" column="name" sort={sort} onSort={setSort} />
            <SortHeader label="Interface" column="interface" sort={sort} onSort={setSort} />
            <SortHeader label="Next hop" column="nextHop" sort={sort} onSort={setSort} />
            <th>Monitor</th>
            <SortHeader label="Failover" column="failover" sort={sort} onSort={setSort} />
            <th>Backups</th>
            <th>Default pool</th>
            <th>Pools</th>
          </>
        }
        cells={(isp) => (
          <>
            <td className="muted">{isp.index}</td>
            <NameCell entity={isp} warnings={warnings.byId.get(isp.id)} />
            <td className="mono">{isp.interface}</td>
            <td className="mono">
              {isp.nextHop}
              {isp.addressing !== "static" && (
                <div className="muted small" data-testid="isp-addressing">
                  learned by {isp.addressing === "dhcp" ? "DHCP" : "PPPoE"}
                </div>
              )}
              {isp.probeTargets.length > 0 && <div className="muted small">probes {isp.probeTargets.join(", ")}</div>}
            </td>
            <td className="small">
              every {isp.monitor.intervalMs} ms, down after {isp.monitor.downAfter}, up after {isp.monitor.upAfter}
            </td>
            <td>
              {isp.failoverMode}
              <div className="muted small">failback {isp.failbackMode}</div>
            </td>
            <td>
              {isp.backupIspIds.length === 0 ? (
                <span className="muted">none</span>
              ) : (
                isp.backupIspIds.map((b) => names.get(b) ?? b).join(" → ")
              )}
            </td>
            <td>{isp.defaultPoolId ? names.get(isp.defaultPoolId) : <span className="muted">none</span>}</td>
            <td className="num">{(pools.data ?? []).filter((p) => p.entity.ispId === isp.id).length}</td>
          </>
        )}
      />
      {dialogs.form && <IspForm clusterId={clusterId} editing={dialogs.form.row} onClose={dialogs.closeForm} />}
    </>
  );
}
