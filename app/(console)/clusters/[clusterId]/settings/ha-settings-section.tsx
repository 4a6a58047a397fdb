"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import type { TextKeyOf } from "@/app/components/field";
import { DraftFormFooter } from "@/app/components/draft-form-footer";
import { type FormEvent, useState } from "react";
import { HA_MODE_LABELS, HA_MODE_VALUES } from "@/core/policy/model";
import { CheckField, Field, inputProps, TextField } from "@/app/components/field";
import { type GroupedErrors, serverIssues } from "@/app/components/form-errors";
import { useCanEdit, useClusterEntities, useRefreshAll } from "@/app/components/hooks";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { groupHaIssues, HA_MODE_EXPLANATIONS, type HaFormText, haFormText, linkFieldKey, readHaForm } from "./ha-form";

const NO_ERRORS: GroupedErrors = { byField: {}, other: [] };

/**
 * How the cluster's gateways back each other up (VRRP with keepalived, connection sync with
 * conntrackd). Saved into the draft like every other policy change; what the draft still lacks
 * for publishing (a LAN virtual address, a gateway's LAN address) is shown at the field.
 */
export function HaSettingsSection({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const canEdit = useCanEdit();
  const refreshAll = useRefreshAll();
  const cluster = useQuery(trpc.cluster.get.queryOptions({ id: clusterId }));
  const status = useQuery(trpc.draft.status.queryOptions({ clusterId }));
  const { isps } = useClusterEntities(clusterId);
  // the form as typed; null: not edited, show what the draft holds
  const [edited, setEdited] = useState<HaFormText | null>(null);
  const [errors, setErrors] = useState<GroupedErrors | null>(null);
  const [saved, setSaved] = useState(false);
  const save = useMutation(
    trpc.cluster.update.mutationOptions({
      onSuccess: async () => {
        setEdited(null);
        setErrors(null);
        setSaved(true);
        await refreshAll();
      },
      onError: (e) => setErrors(groupHaIssues(serverIssues(e), cluster.data?.settings.ha.links ?? [], true)),
    }),
  );

  if (cluster.isPending || isps.isPending) return <div className="loading">Loading high availability…</div>;
  if (cluster.error) return <div className="banner error">{errorMessage(cluster.error)}</div>;
  if (isps.error) return <div className="banner error">{errorMessage(isps.error)}</div>;
  const c = cluster.data;
  const ispList = [...(isps.data ?? [])].map((x) => x.entity).sort((a, b) => a.index - b.index);
  const text = edited ?? haFormText(c.settings.ha);
  // the draft's own problems while the form shows it; the form's checks once it was submitted
  const shown =
    errors ?? (edited === null ? groupHaIssues(status.data?.issues ?? [], c.settings.ha.links, true) : NO_ERRORS);
  const at = (key: string) => shown.byField[key];
  const change = (patch: Partial<HaFormText>) => {
    setEdited({ ...text, ...patch });
    setSaved(false);
  };
  const disabled = !canEdit;
  /** a text field's value, messages and change handler, for one key of the form's text */
  const bind = (key: TextKeyOf<HaFormText>, errorKey: string) => ({
    errors: at(errorKey),
    value: text[key],
    disabled,
    onChange: (v: string) => change({ [key]: v }),
  });
  const ha = text.mode !== "none";

  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const read = readHaForm(
      text,
      ispList.map((i) => i.id),
    );
    if (!read.ok) {
      setErrors(read.errors);
      return;
    }
    setErrors(null);
    save.mutate({ id: clusterId, draftVersion: c.draftVersion, ha: read.value });
  }

  const problems = Object.keys(shown.byField).length + shown.other.length;
  return (
    <section className="card" style={{ marginTop: 16 }} aria-labelledby="ha-heading">
      <h2 id="ha-heading" style={{ marginTop: 0 }}>
        High availability
      </h2>
      <p className="muted small">
        The gateways elect a master with VRRP (keepalived) and can share their connection tables (conntrackd) so that
        established connections survive a takeover. Each gateway's own addresses and priority are set on its page.
      </p>
      <form onSubmit={submit} aria-label="High availability settings">
        <fieldset className="field" aria-describedby={at("ha.mode") ? "ha-mode-error" : undefined}>
          <legend>Mode</legend>
          {HA_MODE_VALUES.map((m) => (
            <div key={m} className="field">
              <label className="check" htmlFor={`ha-mode-${m}`} style={{ margin: 0 }}>
                <input
                  id={`ha-mode-${m}`}
                  type="radio"
                  name="ha-mode"
                  value={m}
                  style={{ width: "auto" }}
                  aria-describedby={`ha-mode-${m}-hint`}
                  checked={text.mode === m}
                  disabled={disabled}
                  onChange={() => change({ mode: m })}
                />
                {HA_MODE_LABELS[m]}
              </label>
              <div id={`ha-mode-${m}-hint`} className="muted small" style={{ marginLeft: 22 }}>
                {HA_MODE_EXPLANATIONS[m]}
              </div>
            </div>
          ))}
          {at("ha.mode") && (
            <div id="ha-mode-error" className="field-error">
              {at("ha.mode")?.join(" ")}
            </div>
          )}
        </fieldset>
        {ha && (
          <>
            {text.mode === "active_standby" && (
              <div className="row" style={{ alignItems: "flex-start" }}>
                <TextField
                  id="ha-lan-vip"
                  label="LAN virtual address"
                  hint="(the clients' default gateway, with the LAN's prefix; it floats with the master)"
                  placeholder="100.64.0.1/24"
                  {...bind("lanVirtualAddress", "ha.lanVirtualAddress")}
                />
                <TextField id="ha-lan-vrid" label="LAN VRID" hint="(1–255)" {...bind("lanVrid", "ha.lanVrid")} />
              </div>
            )}
            <div className="row" style={{ alignItems: "flex-start" }}>
              <TextField
                id="ha-advert"
                label="Advert interval (ms)"
                hint="(a backup takes over after about three missed adverts)"
                {...bind("advertIntervalMs", "ha.advertIntervalMs")}
              />
              <TextField
                id="ha-track-weight"
                label="Link tracking weight"
                hint="(taken from a gateway's priority per ISP link that is down; 0: no tracking)"
                {...bind("trackLinkWeight", "ha.trackLinkWeight")}
              />
            </div>
            <CheckField
              id="ha-preempt"
              label="Preempt"
              hint="(a higher-priority gateway takes its groups back when it returns; off: fail back only by hand)"
            >
              <input
                id="ha-preempt"
                type="checkbox"
                checked={text.preempt}
                disabled={disabled}
                onChange={(e) => change({ preempt: e.target.checked })}
              />
            </CheckField>
            <CheckField
              id="ha-unicast"
              label="Unicast adverts"
              hint="(to the other gateways' own addresses, for networks without multicast)"
            >
              <input
                id="ha-unicast"
                type="checkbox"
                checked={text.unicast}
                disabled={disabled}
                onChange={(e) => change({ unicast: e.target.checked })}
              />
            </CheckField>
            <CheckField
              id="ha-sync"
              label="Connection sync"
              hint="(conntrackd: established connections survive a takeover)"
            >
              <input
                id="ha-sync"
                type="checkbox"
                checked={text.syncEnabled}
                disabled={disabled}
                onChange={(e) => change({ syncEnabled: e.target.checked })}
              />
            </CheckField>
            {text.syncEnabled && (
              <TextField
                id="ha-sync-interface"
                label="Sync interface"
                hint="(empty: each gateway's LAN interface)"
                placeholder="LAN interface"
                {...bind("syncInterface", "ha.sync.interface")}
              />
            )}
            {text.mode === "active_standby" && ispList.length > 0 && (
              <table className="data" aria-label="VRRP on the ISP links">
                <thead>
                  <tr>
                    <th>ISP</th>
                    <th>VRID (empty: no VRRP on this link)</th>
                    <th>Floating link address (the next hop for routed pools)</th>
                  </tr>
                </thead>
                <tbody>
                  {ispList.map((isp) => {
                    const l = text.links[isp.id] ?? { vrid: "", floatingAddress: "" };
                    const setLink = (patch: Partial<typeof l>) =>
                      change({ links: { ...text.links, [isp.id]: { ...l, ...patch } } });
                    const vridId = `ha-link-${isp.id}-vrid`;
                    const floatId = `ha-link-${isp.id}-floating`;
                    const vridErrors = at(linkFieldKey(isp.id, "vrid"));
                    const floatErrors = at(linkFieldKey(isp.id, "floatingAddress"));
                    return (
                      <tr key={isp.id}>
                        <td>
                          <strong>{isp.name}</strong>
                          <div className="muted small mono">{isp.interface}</div>
                        </td>
                        <td>
                          <Field id={vridId} label={`VRID on ${isp.name}`} errors={vridErrors}>
                            <input
                              {...inputProps(vridId, vridErrors)}
                              value={l.vrid}
                              disabled={disabled}
                              onChange={(e) => setLink({ vrid: e.target.value })}
                            />
                          </Field>
                        </td>
                        <td>
                          <Field id={floatId} label={`Floating address on ${isp.name}`} errors={floatErrors}>
                            <input
                              {...inputProps(floatId, floatErrors)}
                              value={l.floatingAddress}
                              placeholder="none"
                              disabled={disabled}
                              onChange={(e) => setLink({ floatingAddress: e.target.value })}
                            />
                          </Field>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </>
        )}
        <DraftFormFooter
          messages={save.error && problems === 0 ? [errorMessage(save.error)] : shown.other}
          saved={saved}
          problems={problems}
          afterPublish="Gateways change when you publish it."
          canEdit={canEdit}
          dirty={edited !== null}
          pending={save.isPending}
          onReset={() => {
            setEdited(null);
            setErrors(null);
          }}
        />
      </form>
    </section>
  );
}
