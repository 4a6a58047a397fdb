"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import type { TextKeyOf } from "@/app/components/field";
import { DraftFormFooter } from "@/app/components/draft-form-footer";
import { type FormEvent, useState } from "react";
import { Field, inputProps, TextField } from "@/app/components/field";
import { type GroupedErrors, serverIssues } from "@/app/components/form-errors";
import { useCanEdit, useClusterEntities, useRefreshAll } from "@/app/components/hooks";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import {
  entryIssues,
  GATEWAY_LINK_FIELDS,
  type GatewayFormText,
  type GatewayLinkField,
  gatewayFormText,
  gatewayLinkKey,
  groupGatewayIssues,
  readGatewayForm,
} from "./gateway-ha-form";

const LINK_LABELS: Record<GatewayLinkField, string> = {
  interface: "Interface",
  nextHop: "Next hop",
  localAddress: "Own address",
  floatingAddress: "Floating address",
};

/**
 * One gateway's own values: its interface, next hop and addresses on each ISP link (empty: the
 * ISP's, shown as the placeholder), its LAN interface and address, and its VRRP values. Saved
 * into the cluster's draft; what the draft still lacks for publishing is shown at the field.
 */
export function GatewayHaSection({ clusterId, gatewayId }: { clusterId: string; gatewayId: string }) {
  const trpc = useTRPC();
  const canEdit = useCanEdit();
  const refreshAll = useRefreshAll();
  const cluster = useQuery(trpc.cluster.get.queryOptions({ id: clusterId }));
  const current = useQuery(trpc.gateway.settings.queryOptions({ id: gatewayId }));
  const { isps } = useClusterEntities(clusterId);
  const [edited, setEdited] = useState<GatewayFormText | null>(null);
  const [errors, setErrors] = useState<GroupedErrors | null>(null);
  const [saved, setSaved] = useState(false);
  const save = useMutation(
    trpc.gateway.updateSettings.mutationOptions({
      onSuccess: async () => {
        setEdited(null);
        setErrors(null);
        setSaved(true);
        await refreshAll();
      },
      onError: (e, sent) =>
        setErrors(
          groupGatewayIssues(
            serverIssues(e).map((i) => (i.path[0] === "settings" ? { ...i, path: i.path.slice(1) } : i)),
            sent.settings.links ?? [],
            true,
          ),
        ),
    }),
  );

  if (cluster.isPending || current.isPending || isps.isPending) {
    return <div className="loading">Loading the gateway's links…</div>;
  }
  if (cluster.error || current.error || isps.error) {
    return <div className="banner error">{errorMessage(cluster.error ?? current.error ?? isps.error)}</div>;
  }
  const s = current.data;
  const { ha } = cluster.data.settings;
  const activeActive = ha.mode === "active_active";
  const ispList = [...(isps.data ?? [])].map((x) => x.entity).sort((a, b) => a.index - b.index);
  const text = edited ?? gatewayFormText(s.settings);
  const shown =
    errors ??
    (edited === null
      ? groupGatewayIssues(entryIssues(s.issues), s.settings.links, true)
      : { byField: {}, other: [] as string[] });
  const at = (key: string) => shown.byField[key];
  const change = (patch: Partial<GatewayFormText>) => {
    setEdited({ ...text, ...patch });
    setSaved(false);
  };
  const disabled = !canEdit;
  /** a text field's value, messages and change handler, for one key of the form's text */
  const bind = (key: TextKeyOf<GatewayFormText>, errorKey: string) => ({
    errors: at(errorKey),
    value: text[key],
    disabled,
    onChange: (v: string) => change({ [key]: v }),
  });
  const linkFields = GATEWAY_LINK_FIELDS.filter((f) => f !== "floatingAddress" || activeActive);

  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const read = readGatewayForm(
      text,
      ispList.map((i) => i.id),
    );
    if (!read.ok) {
      setErrors(read.errors);
      return;
    }
    setErrors(null);
    save.mutate({ gatewayId, draftVersion: s.draftVersion, settings: read.value });
  }

  const problems = Object.keys(shown.byField).length + shown.other.length;
  return (
    <section className="card" style={{ marginTop: 16 }} aria-labelledby="gateway-ha-heading">
      <h2 id="gateway-ha-heading" style={{ marginTop: 0 }}>
        Links and high availability
      </h2>
      <p className="muted small">
        This gateway's own values, saved to the cluster's draft. An empty link field takes the ISP's value, shown in
        grey. High availability: {ha.mode === "none" ? "off for this cluster" : ha.mode.replace("_", "/")} (set on the
        cluster's Settings page).
      </p>
      <form onSubmit={submit} aria-label="Links and high availability">
        {ispList.length > 0 && (
          <table className="data" aria-label="ISP links of this gateway">
            <thead>
              <tr>
                <th>ISP</th>
                {linkFields.map((f) => (
                  <th key={f}>{LINK_LABELS[f]}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {ispList.map((isp) => {
                const l = text.links[isp.id] ?? { interface: "", nextHop: "", localAddress: "", floatingAddress: "" };
                const defaults: Record<GatewayLinkField, string> = {
                  interface: isp.interface,
                  nextHop: isp.nextHop,
                  localAddress: isp.localAddress ?? "none",
                  floatingAddress: "none",
                };
                return (
                  <tr key={isp.id}>
                    <td>
                      <strong>{isp.name}</strong>
                    </td>
                    {linkFields.map((f) => {
                      const id = `gw-link-${isp.id}-${f}`;
                      const errs = at(gatewayLinkKey(isp.id, f));
                      return (
                        <td key={f}>
                          <Field id={id} label={`${LINK_LABELS[f]} on ${isp.name}`} errors={errs}>
                            <input
                              {...inputProps(id, errs)}
                              value={l[f]}
                              placeholder={defaults[f]}
                              disabled={disabled}
                              onChange={(e) =>
                                change({ links: { ...text.links, [isp.id]: { ...l, [f]: e.target.value } } })
                              }
                            />
                          </Field>
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <div className="row" style={{ alignItems: "flex-start" }}>
          <TextField
            id="gw-lan-interface"
            label="LAN interface"
            placeholder="eth0"
            {...bind("lanInterface", "lanInterface")}
          />
          <TextField
            id="gw-lan-address"
            label="Own LAN address"
            hint="(with the LAN's prefix)"
            placeholder="100.64.0.2/24"
            {...bind("lanAddress", "lanAddress")}
          />
          <TextField
            id="gw-priority"
            label="VRRP priority"
            hint="(2–249; the highest becomes master)"
            {...bind("priority", "priority")}
          />
        </div>
        {activeActive && (
          <div className="row" style={{ alignItems: "flex-start" }}>
            <TextField
              id="gw-lan-vip"
              label="LAN virtual address"
              hint="(the default gateway of the clients this gateway serves)"
              placeholder="100.64.0.11/24"
              {...bind("lanVirtualAddress", "lanVirtualAddress")}
            />
            <TextField
              id="gw-vrid"
              label="VRID"
              hint="(of this gateway's group on every link)"
              {...bind("vrid", "vrid")}
            />
          </div>
        )}
        {ha.sync.enabled && (
          <TextField
            id="gw-sync-address"
            label="Sync-link address"
            hint={`(on ${ha.sync.interface ?? "the LAN interface"}, for connection sync)`}
            placeholder="100.100.0.1"
            {...bind("syncAddress", "syncAddress")}
          />
        )}
        <DraftFormFooter
          messages={save.error && problems === 0 ? [errorMessage(save.error)] : shown.other}
          saved={saved}
          problems={problems}
          afterPublish="The gateway changes when you publish it."
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
