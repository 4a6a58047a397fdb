"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { FormAlert, TextField } from "@/app/components/field";
import { type GroupedErrors, groupIssues, serverIssues } from "@/app/components/form-errors";
import { useCanEdit, useClusterEntities, useRefreshAll } from "@/app/components/hooks";
import { joinList } from "@/app/components/list-text";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { checkGuardInterfaces, GUARD_FIELDS } from "./guard-interfaces";

const NO_ERRORS: GroupedErrors = { byField: {}, other: [] };

/**
 * The LAN guard's interfaces: LAN traffic leaving by an interface that is neither a LAN's, an
 * internal network's nor an ISP's is dropped and counted. Saved into the draft like every other
 * policy change, so gateways change when the draft is published.
 */
export function GuardInterfacesSection({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const canEdit = useCanEdit();
  const refreshAll = useRefreshAll();
  const cluster = useQuery(trpc.cluster.get.queryOptions({ id: clusterId }));
  const { isps } = useClusterEntities(clusterId);
  // the texts as typed; null: not edited, show what the draft holds
  const [lan, setLan] = useState<string | null>(null);
  const [internal, setInternal] = useState<string | null>(null);
  const [errors, setErrors] = useState<GroupedErrors>(NO_ERRORS);
  const [saved, setSaved] = useState(false);
  const save = useMutation(
    trpc.cluster.update.mutationOptions({
      onSuccess: async () => {
        setLan(null);
        setInternal(null);
        setSaved(true);
        await refreshAll();
      },
      onError: (e) => setErrors(groupIssues("settings", serverIssues(e), GUARD_FIELDS, true)),
    }),
  );

  if (cluster.isPending || isps.isPending) return <div className="loading">Loading the guard's interfaces…</div>;
  if (cluster.error) return <div className="banner error">{errorMessage(cluster.error)}</div>;
  if (isps.error) return <div className="banner error">{errorMessage(isps.error)}</div>;
  const c = cluster.data;
  const lanText = lan ?? joinList(c.settings.lanInterfaces);
  const internalText = internal ?? joinList(c.settings.internalInterfaces);
  const edited = lan !== null || internal !== null;

  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const checked = checkGuardInterfaces(
      { lan: lanText, internal: internalText },
      c.settings,
      (isps.data ?? []).map((x) => x.entity),
    );
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors(NO_ERRORS);
    save.mutate({ id: clusterId, draftVersion: c.draftVersion, ...checked.value });
  }

  const lanErrors = errors.byField.lanInterfaces;
  const internalErrors = errors.byField.internalInterfaces;
  return (
    <section className="card" aria-labelledby="guard-heading">
      <h2 id="guard-heading" style={{ marginTop: 0 }}>
        LAN guard
      </h2>
      <p className="muted small">
        LAN traffic that leaves by an interface that is neither a LAN interface, an internal one nor an ISP's uplink is
        dropped and counted, so private addresses never leak un-NATed through an uplink the cluster does not know. With
        no LAN interface named there is no such check.
      </p>
      <form onSubmit={submit} aria-label="LAN guard interfaces">
        <TextField
          id="guard-lan"
          label="LAN interfaces"
          hint="(the interfaces the LAN is behind; commas or spaces between names)"
          placeholder="none: no guard on other interfaces"
          errors={lanErrors}
          value={lanText}
          disabled={!canEdit}
          onChange={(v) => {
            setLan(v);
            setSaved(false);
          }}
        />
        <TextField
          id="guard-internal"
          label="Internal interfaces"
          hint="(other networks LAN traffic may reach un-NATed: a DMZ, a management network)"
          placeholder="none"
          errors={internalErrors}
          value={internalText}
          disabled={!canEdit}
          onChange={(v) => {
            setInternal(v);
            setSaved(false);
          }}
        />
        <FormAlert
          messages={
            save.error && errors.other.length === 0 && !lanErrors && !internalErrors
              ? [errorMessage(save.error)]
              : errors.other
          }
        />
        {saved && (
          <div className="banner ok" role="status">
            Saved to the draft. Gateways change when you publish it.
          </div>
        )}
        {canEdit && (
          <div className="row">
            <button className="primary" type="submit" disabled={!edited || save.isPending}>
              {save.isPending ? "Saving…" : "Save to draft"}
            </button>
            {edited && (
              <button
                type="button"
                onClick={() => {
                  setLan(null);
                  setInternal(null);
                  setErrors(NO_ERRORS);
                }}
              >
                Reset
              </button>
            )}
          </div>
        )}
      </form>
    </section>
  );
}
