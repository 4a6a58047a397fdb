"use client";

import { useMutation } from "@tanstack/react-query";
import { useParams } from "next/navigation";
import { type FormEvent, useMemo, useRef, useState } from "react";
import { ConfirmDelete } from "@/app/components/ConfirmDelete";
import { Field, FormAlert, inputProps, saveAlert } from "@/app/components/Field";
import { type GroupedErrors, groupIssues, mergeErrors, serverIssues } from "@/app/components/form-errors";
import { useCanEdit, useClusterEntities, useRefreshAll } from "@/app/components/hooks";
import { joinList, numberField, splitList } from "@/app/components/list-text";
import { Modal } from "@/app/components/Modal";
import { SortHeader, useSortedRows } from "@/app/components/SortHeader";
import { useDraftWarnings, WarningBadges, WarningList, WarningSentences } from "@/app/components/warnings";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { type Isp, type Monitor, zIspFields, zMonitor } from "@/server/policy/model";

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
  "nextHop",
  "probeTargets",
  ...MONITOR_FIELDS.map((f) => `monitor.${f.key}`),
  "monitor",
  "failoverMode",
  "failbackMode",
  "flushOnFailback",
  "backupIspIds",
  "defaultPoolId",
  "comment",
];

interface FormState {
  name: string;
  interface: string;
  nextHop: string;
  probeTargets: string;
  monitor: Record<MonitorKey, string>;
  failoverMode: "manual" | "automatic";
  failbackMode: "manual" | "automatic";
  flushOnFailback: boolean;
  backups: string[];
  defaultPoolId: string;
  comment: string;
}

function initialState(isp: Isp | null): FormState {
  const m = isp?.monitor ?? DEFAULT_MONITOR;
  return {
    name: isp?.name ?? "",
    interface: isp?.interface ?? "",
    nextHop: isp?.nextHop ?? "",
    probeTargets: joinList(isp?.probeTargets ?? []),
    monitor: Object.fromEntries(MONITOR_FIELDS.map((f) => [f.key, String(m[f.key])])) as Record<MonitorKey, string>,
    failoverMode: isp?.failoverMode ?? "manual",
    failbackMode: isp?.failbackMode ?? "manual",
    flushOnFailback: isp?.flushOnFailback ?? false,
    backups: [...(isp?.backupIspIds ?? [])],
    defaultPoolId: isp?.defaultPoolId ?? "",
    comment: isp?.comment ?? "",
  };
}

function toFields(s: FormState) {
  return {
    name: s.name,
    interface: s.interface.trim(),
    nextHop: s.nextHop,
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

const NO_ERRORS: GroupedErrors = { byField: {}, other: [] };

function IspForm({
  clusterId,
  editing,
  onClose,
}: {
  clusterId: string;
  editing: { entity: Isp; version: number } | null;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const { isps, pools } = useClusterEntities(clusterId);
  const [s, setS] = useState<FormState>(() => initialState(editing?.entity ?? null));
  const [tried, setTried] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const done = {
    onSuccess: async () => {
      await refresh();
      onClose();
    },
  };
  const create = useMutation(trpc.isp.create.mutationOptions(done));
  const update = useMutation(trpc.isp.update.mutationOptions(done));
  const mutation = editing ? update : create;
  // checked with the API's own schema once a save was tried, then at every change
  const checked = useMemo(() => zIspFields.safeParse(toFields(s)), [s]);
  const clientErrors = tried && !checked.success ? groupIssues("isp", checked.error.issues, FIELD_KEYS) : NO_ERRORS;
  const fromServer = groupIssues("isp", serverIssues(mutation.error), FIELD_KEYS, true);
  const errors = mergeErrors(clientErrors, fromServer);
  const alert = saveAlert(
    mutation.error,
    Object.keys(fromServer.byField).length,
    fromServer.other.length,
    errorMessage(mutation.error),
  );
  const e = (k: string) => errors.byField[k];
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setS((old) => ({ ...old, [k]: v }));

  function submit(ev: FormEvent) {
    ev.preventDefault();
    setTried(true);
    mutation.reset();
    if (!checked.success) {
      requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    // what the schema accepted, with its defaults and trimming: the same the server will store
    const fields = checked.data;
    if (editing) update.mutate({ clusterId, id: editing.entity.id, version: editing.version, fields });
    else create.mutate({ clusterId, fields });
  }

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
    <Modal title={editing ? `Edit ISP ${editing.entity.name}` : "New ISP"} onClose={onClose} wide>
      <form ref={formRef} onSubmit={submit} aria-label={editing ? "Edit ISP" : "New ISP"} noValidate>
        <div className="dialog-body">
          <FormAlert messages={alert} />
          {errors.other.length > 0 && !mutation.error && <FormAlert messages={errors.other} />}
          <div className="form-grid">
            <Field id="isp-name" label="Name" errors={e("name")}>
              <input
                {...inputProps("isp-name", e("name"))}
                value={s.name}
                onChange={(x) => set("name", x.target.value)}
                data-autofocus
              />
            </Field>
            <Field id="isp-interface" label="Egress interface" hint="(e.g. eth1)" errors={e("interface")}>
              <input
                {...inputProps("isp-interface", e("interface"))}
                className="mono"
                value={s.interface}
                onChange={(x) => set("interface", x.target.value)}
              />
            </Field>
            <Field id="isp-nexthop" label="Next hop" hint="(the ISP's gateway address)" errors={e("nextHop")}>
              <input
                {...inputProps("isp-nexthop", e("nextHop"))}
                className="mono"
                value={s.nextHop}
                onChange={(x) => set("nextHop", x.target.value)}
              />
            </Field>
            <Field
              id="isp-probes"
              label="Probe targets"
              hint="(addresses, comma separated; empty: the next hop)"
              errors={e("probeTargets")}
            >
              <input
                {...inputProps("isp-probes", e("probeTargets"))}
                className="mono"
                value={s.probeTargets}
                onChange={(x) => set("probeTargets", x.target.value)}
              />
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
                <select
                  {...inputProps("isp-failover", e("failoverMode"))}
                  value={s.failoverMode}
                  onChange={(x) => set("failoverMode", x.target.value as FormState["failoverMode"])}
                >
                  <option value="manual">manual: an operator switches</option>
                  <option value="automatic">automatic: when probes say it is down</option>
                </select>
              </Field>
              <Field id="isp-failback" label="Failback" errors={e("failbackMode")}>
                <select
                  {...inputProps("isp-failback", e("failbackMode"))}
                  value={s.failbackMode}
                  onChange={(x) => set("failbackMode", x.target.value as FormState["failbackMode"])}
                >
                  <option value="manual">manual: an operator switches back</option>
                  <option value="automatic">automatic: after hysteresis and hold-down</option>
                </select>
              </Field>
              <div className="field span-2">
                <label className="check" htmlFor="isp-flush">
                  <input
                    id="isp-flush"
                    type="checkbox"
                    checked={s.flushOnFailback}
                    onChange={(x) => set("flushOnFailback", x.target.checked)}
                  />
                  Flush the connections moved to the backup when failing back
                </label>
              </div>
              <div className="field span-2">
                <label htmlFor="isp-backup-add">
                  Backup ISPs <span className="hint">(in order of preference; the first healthy one is used)</span>
                </label>
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
                  id="isp-backup-add"
                  value=""
                  disabled={addable.length === 0}
                  onChange={(x) => x.target.value && set("backups", [...s.backups, x.target.value])}
                  aria-describedby={e("backupIspIds") ? "isp-backup-add-error" : undefined}
                  aria-invalid={Boolean(e("backupIspIds"))}
                >
                  <option value="">{addable.length === 0 ? "No other ISP to add" : "Add a backup ISP…"}</option>
                  {addable.map((o) => (
                    <option key={o.entity.id} value={o.entity.id}>
                      {o.entity.name}
                    </option>
                  ))}
                </select>
                {e("backupIspIds") && (
                  <div id="isp-backup-add-error" className="field-error">
                    {e("backupIspIds")?.join(" ")}
                  </div>
                )}
              </div>
              <Field
                id="isp-default-pool"
                label="Default pool"
                hint="(used when traffic fails over to this ISP)"
                errors={e("defaultPoolId")}
                className="span-2"
              >
                <select
                  {...inputProps("isp-default-pool", e("defaultPoolId"))}
                  value={s.defaultPoolId}
                  onChange={(x) => set("defaultPoolId", x.target.value)}
                >
                  <option value="">none</option>
                  {ownPools.map((p) => (
                    <option key={p.entity.id} value={p.entity.id}>
                      {p.entity.name}
                    </option>
                  ))}
                </select>
                {!editing && (
                  <div className="muted small">Create this ISP's pools first; then pick its default pool here.</div>
                )}
              </Field>
            </div>
          </fieldset>
          <Field id="isp-comment" label="Comment" errors={e("comment")}>
            <input
              {...inputProps("isp-comment", e("comment"))}
              value={s.comment}
              onChange={(x) => set("comment", x.target.value)}
            />
          </Field>
        </div>
        <div className="dialog-actions">
          <span className="muted small" style={{ marginRight: "auto" }}>
            <kbd>Enter</kbd> saves, <kbd>Esc</kbd> cancels
          </span>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit" disabled={mutation.isPending}>
            {mutation.isPending ? "Saving…" : editing ? "Save ISP" : "Create ISP"}
          </button>
        </div>
      </form>
    </Modal>
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
  const [editing, setEditing] = useState<{ entity: Isp; version: number } | null | "new">(null);
  const [deleting, setDeleting] = useState<{ entity: Isp; version: number } | null>(null);

  const rows = isps.data ?? [];
  const { sorted, sort, setSort } = useSortedRows<(typeof rows)[number], SortKey>(
    rows,
    "index",
    (r, k) => (k === "failover" ? r.entity.failoverMode : k === "index" ? r.entity.index : String(r.entity[k] ?? "")),
    (r) => [r.entity.name, r.entity.interface, r.entity.nextHop, r.entity.comment, ...r.entity.probeTargets].join(" "),
    search,
    (r) => mode === "" || r.entity.failoverMode === mode,
  );
  const ispWarnings = warnings.all.filter((w) => w.entity === "isp");

  return (
    <>
      <div className="page-head">
        <h1>ISPs</h1>
        <span className="muted">{rows.length > 0 && `${rows.length} uplink${rows.length === 1 ? "" : "s"}`}</span>
        <div className="spacer" />
        {canEdit && (
          <button className="primary" type="button" onClick={() => setEditing("new")}>
            New ISP
          </button>
        )}
      </div>
      <WarningList warnings={ispWarnings} label="ISP warnings" />
      <div className="toolbar">
        <div className="control">
          <label htmlFor="isp-search">Search</label>
          <input
            id="isp-search"
            type="search"
            placeholder="name, interface, address"
            value={search}
            onChange={(x) => setSearch(x.target.value)}
          />
        </div>
        <div className="control">
          <label htmlFor="isp-mode">Failover</label>
          <select id="isp-mode" value={mode} onChange={(x) => setMode(x.target.value as typeof mode)}>
            <option value="">any</option>
            <option value="manual">manual</option>
            <option value="automatic">automatic</option>
          </select>
        </div>
      </div>
      {isps.isPending && <div className="loading">Loading ISPs…</div>}
      {isps.error && <div className="banner error">{errorMessage(isps.error)}</div>}
      {isps.data && rows.length === 0 && (
        <div className="card empty">
          No ISPs yet. {canEdit ? "Add the cluster's uplinks first: pools and rules refer to them." : ""}
        </div>
      )}
      {rows.length > 0 && sorted.length === 0 && <div className="card empty">No ISP matches the search.</div>}
      {sorted.length > 0 && (
        <table className="data" aria-label="ISPs">
          <thead>
            <tr>
              <SortHeader label="#" column="index" sort={sort} onSort={setSort} />
              <SortHeader label="Name" column="name" sort={sort} onSort={setSort} />
              <SortHeader label="Interface" column="interface" sort={sort} onSort={setSort} />
              <SortHeader label="Next hop" column="nextHop" sort={sort} onSort={setSort} />
              <th>Monitor</th>
              <SortHeader label="Failover" column="failover" sort={sort} onSort={setSort} />
              <th>Backups</th>
              <th>Default pool</th>
              <th>Pools</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map(({ entity: isp, version }) => {
              const own = (pools.data ?? []).filter((p) => p.entity.ispId === isp.id);
              const w = warnings.byId.get(isp.id);
              return (
                <tr key={isp.id}>
                  <td className="muted">{isp.index}</td>
                  <td>
                    <strong>{isp.name}</strong> <WarningBadges warnings={w} />
                    {isp.comment && <div className="muted small">{isp.comment}</div>}
                    <WarningSentences warnings={w} />
                  </td>
                  <td className="mono">{isp.interface}</td>
                  <td className="mono">
                    {isp.nextHop}
                    {isp.probeTargets.length > 0 && (
                      <div className="muted small">probes {isp.probeTargets.join(", ")}</div>
                    )}
                  </td>
                  <td className="small">
                    every {isp.monitor.intervalMs} ms, down after {isp.monitor.downAfter}, up after{" "}
                    {isp.monitor.upAfter}
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
                  <td className="num">{own.length}</td>
                  <td style={{ whiteSpace: "nowrap" }}>
                    {canEdit && (
                      <>
                        <button
                          type="button"
                          onClick={() => setEditing({ entity: isp, version })}
                          aria-label={`Edit ISP ${isp.name}`}
                        >
                          Edit
                        </button>{" "}
                        <button
                          type="button"
                          className="danger"
                          onClick={() => setDeleting({ entity: isp, version })}
                          aria-label={`Delete ISP ${isp.name}`}
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {editing !== null && (
        <IspForm clusterId={clusterId} editing={editing === "new" ? null : editing} onClose={() => setEditing(null)} />
      )}
      {deleting && (
        <ConfirmDelete
          kind="isp"
          clusterId={clusterId}
          id={deleting.entity.id}
          version={deleting.version}
          title={`ISP "${deleting.entity.name}"`}
          onClose={() => setDeleting(null)}
        />
      )}
    </>
  );
}
