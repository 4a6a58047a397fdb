"use client";

import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useMemo, useRef, useState } from "react";
import { DialogActions } from "@/app/components/dialog-actions";
import type { VersionedRow } from "@/app/components/entity-kinds";
import { CheckField, Field, FormAlert, inputProps, saveAlert } from "@/app/components/field";
import { serverIssues } from "@/app/components/form-errors";
import { useRefreshAll } from "@/app/components/hooks";
import { Modal } from "@/app/components/modal";
import { errorMessage } from "@/app/lib/errors";
import { useTRPCClient } from "@/app/lib/trpc";
import {
  REAL_SERVER_MODES,
  type RealServerMode,
  type VirtualService,
  type VirtualServiceFields,
  VS_PROTOCOL_LABELS,
  VS_PROTOCOLS,
  VS_SCHEDULER_LABELS,
  VS_SCHEDULERS,
  type VsProtocol,
  type VsScheduler,
  zVirtualServiceFields,
} from "@/core/policy/virtual-service";
import {
  fieldKeysFor,
  initialState,
  newRealServerRow,
  placeIssues,
  type RealServerRow,
  type ServiceFormState,
  toFields,
} from "./form-state";

const MODE_LABELS: Record<RealServerMode, string> = { nat: "NAT (masquerade)", dr: "DR (direct routing)" };

/**
 * The create and edit dialog of a virtual service: its address, scheduler and options, the real
 * servers as a table (weight, mode, port mapping, enabled or draining), and the health check.
 * Checked in the browser with the API's schema; the server's checks against the whole draft and
 * the gateways' interfaces come back under the same fields.
 */
export function ServiceForm({
  clusterId,
  editing,
  onClose,
}: {
  clusterId: string;
  editing: VersionedRow<VirtualService> | null;
  onClose: () => void;
}) {
  const client = useTRPCClient();
  const refresh = useRefreshAll();
  const [state, setState] = useState<ServiceFormState>(() => initialState(editing?.entity ?? null));
  const [tried, setTried] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const save = useMutation({
    mutationFn: (fields: VirtualServiceFields) =>
      editing
        ? client.virtualService.update.mutate({
            clusterId,
            id: editing.entity.id,
            version: editing.version,
            fields,
          })
        : client.virtualService.create.mutate({ clusterId, fields }),
    onSuccess: async () => {
      await refresh();
      onClose();
    },
  });
  const checked = useMemo(() => zVirtualServiceFields.safeParse(toFields(state)), [state]);
  const keys = useMemo(() => fieldKeysFor(state.realServers.length), [state.realServers.length]);
  const fromServer = placeIssues(serverIssues(save.error), keys, true);
  const fromBrowser = tried && !checked.success ? placeIssues(checked.error.issues, keys, false) : {};
  const errorsOf = (key: string) => {
    const all = [...(fromBrowser[key] ?? []), ...(fromServer[key] ?? [])];
    return all.length > 0 ? all : undefined;
  };
  const placed = Object.keys(fromServer).filter((k) => k !== "").length;
  const alert = saveAlert(save.error, placed, fromServer[""]?.length ?? 0, errorMessage(save.error));
  const set = <K extends keyof ServiceFormState>(key: K, value: ServiceFormState[K]) =>
    setState((old) => ({ ...old, [key]: value }));
  const setRow = (i: number, change: Partial<RealServerRow>) =>
    setState((old) => ({ ...old, realServers: old.realServers.map((r, n) => (n === i ? { ...r, ...change } : r)) }));
  const text = (key: keyof ServiceFormState, id: string, errorKey: string) => ({
    ...inputProps(id, errorsOf(errorKey)),
    value: state[key] as string,
    onChange: (e: { target: { value: string } }) => set(key, e.target.value as never),
  });
  const http = state.checkKind === "http" || state.checkKind === "https";

  function submit(e: FormEvent) {
    e.preventDefault();
    setTried(true);
    save.reset();
    if (!checked.success) {
      requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    save.mutate(checked.data);
  }

  return (
    <Modal
      title={editing ? `Edit virtual service ${editing.entity.name}` : "New virtual service"}
      onClose={onClose}
      wide
    >
      <form
        ref={formRef}
        onSubmit={submit}
        aria-label={editing ? "Edit virtual service" : "New virtual service"}
        noValidate
      >
        <div className="dialog-body">
          <FormAlert messages={alert} />
          {!save.error && <FormAlert messages={fromBrowser[""] ?? []} />}
          <div className="form-grid">
            <Field id="vs-name" label="Name" errors={errorsOf("name")}>
              <input {...text("name", "vs-name", "name")} data-autofocus />
            </Field>
            <Field id="vs-chosen-by" label="Connections chosen by" errors={errorsOf("fwmark")}>
              <select {...text("chosenBy", "vs-chosen-by", "fwmark")}>
                <option value="address">virtual address, protocol and port</option>
                <option value="fwmark">fwmark (set by your own rules)</option>
              </select>
            </Field>
            {state.chosenBy === "address" ? (
              <>
                <Field
                  id="vs-address"
                  label="Virtual address"
                  hint="(the VIP clients connect to)"
                  errors={errorsOf("address")}
                >
                  <input {...text("address", "vs-address", "address")} className="mono" />
                </Field>
                <Field id="vs-protocol" label="Protocol" errors={errorsOf("protocol")}>
                  <select {...text("protocol", "vs-protocol", "protocol")}>
                    {VS_PROTOCOLS.filter((p) => p !== "any").map((p: VsProtocol) => (
                      <option key={p} value={p}>
                        {VS_PROTOCOL_LABELS[p]}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field id="vs-port" label="Port" hint="(empty: every port)" errors={errorsOf("port")}>
                  <input {...text("port", "vs-port", "port")} inputMode="numeric" />
                </Field>
              </>
            ) : (
              <>
                <Field
                  id="vs-mark"
                  label="Fwmark value"
                  hint="(TCP and UDP packets your rules mark before dstnat, in bits 0xf0000000)"
                  errors={errorsOf("fwmark.value")}
                >
                  <input {...text("markValue", "vs-mark", "fwmark.value")} className="mono" placeholder="0x10000000" />
                </Field>
                <Field
                  id="vs-mark-mask"
                  label="Fwmark mask"
                  hint="(empty: 0xf0000000)"
                  errors={errorsOf("fwmark.mask")}
                >
                  <input {...text("markMask", "vs-mark-mask", "fwmark.mask")} className="mono" />
                </Field>
              </>
            )}
            <Field id="vs-scheduler" label="Scheduler" errors={errorsOf("scheduler")}>
              <select {...text("scheduler", "vs-scheduler", "scheduler")}>
                {VS_SCHEDULERS.map((s: VsScheduler) => (
                  <option key={s} value={s}>
                    {s} ({VS_SCHEDULER_LABELS[s]})
                  </option>
                ))}
              </select>
            </Field>
            <Field
              id="vs-persistence"
              label="Persistence (s)"
              hint="(0: off; a client keeps its server this long)"
              errors={errorsOf("persistenceSeconds")}
            >
              <input {...text("persistence", "vs-persistence", "persistenceSeconds")} inputMode="numeric" />
            </Field>
            <Field
              id="vs-sorry-address"
              label="Sorry server"
              hint="(empty: none; used when no real server is up)"
              errors={errorsOf("sorryServer.address")}
            >
              <input {...text("sorryAddress", "vs-sorry-address", "sorryServer.address")} className="mono" />
            </Field>
            <Field
              id="vs-sorry-port"
              label="Sorry server port"
              hint="(empty: the client's)"
              errors={errorsOf("sorryServer.port")}
            >
              <input {...text("sorryPort", "vs-sorry-port", "sorryServer.port")} inputMode="numeric" />
            </Field>
            <CheckField
              id="vs-fullnat"
              label="Client SNAT (FULLNAT)"
              hint="(servers see the gateway's address: for servers not routed through it)"
              errors={errorsOf("fullNat")}
            >
              <input
                {...inputProps("vs-fullnat", errorsOf("fullNat"))}
                type="checkbox"
                checked={state.fullNat}
                onChange={(e) => set("fullNat", e.target.checked)}
              />
            </CheckField>
            <CheckField id="vs-enabled" label="Enabled" errors={errorsOf("enabled")}>
              <input
                {...inputProps("vs-enabled", errorsOf("enabled"))}
                type="checkbox"
                checked={state.enabled}
                onChange={(e) => set("enabled", e.target.checked)}
              />
            </CheckField>
          </div>

          <fieldset>
            <legend>Real servers</legend>
            {errorsOf("realServers")?.map((m) => (
              <div key={m} className="field-error" id="vs-rs-error">
                {m}
              </div>
            ))}
            <table className="data" aria-label="Real servers">
              <thead>
                <tr>
                  <th>Address</th>
                  <th>Port</th>
                  <th>Weight</th>
                  <th>Mode</th>
                  <th>State</th>
                  <th>
                    <span className="sr-only">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {state.realServers.map((r, i) => (
                  <RealServerInputs
                    key={r.key}
                    row={r}
                    n={i}
                    errorsOf={errorsOf}
                    onChange={(change) => setRow(i, change)}
                    onRemove={
                      state.realServers.length > 1
                        ? () =>
                            set(
                              "realServers",
                              state.realServers.filter((_, n) => n !== i),
                            )
                        : undefined
                    }
                  />
                ))}
              </tbody>
            </table>
            <button
              type="button"
              onClick={() =>
                set("realServers", [
                  ...state.realServers,
                  newRealServerRow({ mode: state.realServers[0]?.mode ?? "nat" }),
                ])
              }
            >
              Add real server
            </button>
          </fieldset>

          <fieldset>
            <legend>Health check</legend>
            <div className="form-grid">
              <Field id="vs-check-kind" label="Check" errors={errorsOf("healthCheck.kind")}>
                <select {...text("checkKind", "vs-check-kind", "healthCheck.kind")}>
                  <option value="none">none</option>
                  <option value="tcp">TCP connect</option>
                  <option value="http">HTTP GET</option>
                  <option value="https">HTTPS GET</option>
                </select>
              </Field>
              <Field id="vs-check-interval" label="Interval (ms)" errors={errorsOf("healthCheck.intervalMs")}>
                <input {...text("checkInterval", "vs-check-interval", "healthCheck.intervalMs")} inputMode="numeric" />
              </Field>
              <Field id="vs-check-timeout" label="Timeout (ms)" errors={errorsOf("healthCheck.timeoutMs")}>
                <input {...text("checkTimeout", "vs-check-timeout", "healthCheck.timeoutMs")} inputMode="numeric" />
              </Field>
              <Field id="vs-check-rise" label="Good checks before up" errors={errorsOf("healthCheck.rise")}>
                <input {...text("checkRise", "vs-check-rise", "healthCheck.rise")} inputMode="numeric" />
              </Field>
              <Field id="vs-check-fall" label="Failed checks before down" errors={errorsOf("healthCheck.fall")}>
                <input {...text("checkFall", "vs-check-fall", "healthCheck.fall")} inputMode="numeric" />
              </Field>
              {http && (
                <>
                  <Field id="vs-check-path" label="Path" errors={errorsOf("healthCheck.path")}>
                    <input {...text("checkPath", "vs-check-path", "healthCheck.path")} className="mono" />
                  </Field>
                  <Field id="vs-check-status" label="Expected status" errors={errorsOf("healthCheck.expectStatus")}>
                    <input
                      {...text("checkStatus", "vs-check-status", "healthCheck.expectStatus")}
                      inputMode="numeric"
                    />
                  </Field>
                  <Field
                    id="vs-check-body"
                    label="Expected body text"
                    hint="(empty: any)"
                    errors={errorsOf("healthCheck.bodyText")}
                  >
                    <input {...text("checkBody", "vs-check-body", "healthCheck.bodyText")} />
                  </Field>
                </>
              )}
            </div>
          </fieldset>
          <Field id="vs-comment" label="Comment" errors={errorsOf("comment")}>
            <input {...text("comment", "vs-comment", "comment")} />
          </Field>
        </div>
        <DialogActions
          onCancel={onClose}
          confirmLabel={editing ? "Save virtual service" : "Create virtual service"}
          pendingLabel="Saving…"
          pending={save.isPending}
        />
      </form>
    </Modal>
  );
}

function RealServerInputs({
  row,
  n,
  errorsOf,
  onChange,
  onRemove,
}: {
  row: RealServerRow;
  n: number;
  errorsOf: (key: string) => string[] | undefined;
  onChange: (change: Partial<RealServerRow>) => void;
  onRemove?: () => void;
}) {
  const id = (f: string) => `vs-rs-${n}-${f}`;
  const cell = (f: "address" | "port" | "weight", label: string, mono = false) => {
    const errors = errorsOf(`realServers.${n}.${f}`);
    return (
      <td>
        <input
          {...inputProps(id(f), errors)}
          aria-label={`Real server ${n + 1} ${label}`}
          className={mono ? "mono" : undefined}
          inputMode={f === "address" ? undefined : "numeric"}
          placeholder={f === "port" ? "same" : undefined}
          value={row[f]}
          onChange={(e) => onChange({ [f]: e.target.value })}
        />
        {errors && (
          <div id={`${id(f)}-error`} className="field-error">
            {errors.map((m) => (
              <div key={m}>{m}</div>
            ))}
          </div>
        )}
      </td>
    );
  };
  const modeErrors = errorsOf(`realServers.${n}.mode`);
  return (
    <tr>
      {cell("address", "address", true)}
      {cell("port", "port")}
      {cell("weight", "weight")}
      <td>
        <select
          {...inputProps(id("mode"), modeErrors)}
          aria-label={`Real server ${n + 1} mode`}
          value={row.mode}
          onChange={(e) => onChange({ mode: e.target.value as RealServerMode })}
        >
          {REAL_SERVER_MODES.map((m) => (
            <option key={m} value={m}>
              {MODE_LABELS[m]}
            </option>
          ))}
        </select>
        {modeErrors && (
          <div id={`${id("mode")}-error`} className="field-error">
            {modeErrors.map((m) => (
              <div key={m}>{m}</div>
            ))}
          </div>
        )}
      </td>
      <td>
        <select
          aria-label={`Real server ${n + 1} state`}
          value={row.state}
          onChange={(e) => onChange({ state: e.target.value as RealServerRow["state"] })}
        >
          <option value="enabled">enabled</option>
          <option value="draining">draining</option>
        </select>
      </td>
      <td>
        {onRemove && (
          <button type="button" className="link" onClick={onRemove} aria-label={`Remove real server ${n + 1}`}>
            Remove
          </button>
        )}
      </td>
    </tr>
  );
}
