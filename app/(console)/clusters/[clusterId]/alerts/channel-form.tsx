"use client";

import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { CheckField, Field, FormAlert, inputProps } from "@/app/components/field";
import { errorMessage, fieldErrors } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { zChannelSettings } from "@/core/alerts/channel";
import type { ChannelView } from "@/server/services/alerts/channels";

/**
 * Adding or changing an alert channel. The browser checks the values with the API's own schema
 * first; the server's messages land under the same fields. A stored secret (webhook URL, SMTP
 * password) is never shown: leaving its field empty keeps it.
 */

interface Values {
  name: string;
  enabled: boolean;
  kind: "webhook" | "email";
  format: "json" | "slack";
  url: string;
  host: string;
  port: string;
  security: "none" | "starttls" | "tls";
  username: string;
  password: string;
  from: string;
  to: string;
}

function initial(c: ChannelView | null): Values {
  const s = c?.settings;
  return {
    name: c?.name ?? "",
    enabled: c?.enabled ?? true,
    kind: s?.kind ?? "webhook",
    format: s?.kind === "webhook" ? s.format : "json",
    url: "",
    host: s?.kind === "email" ? s.host : "",
    port: s?.kind === "email" ? String(s.port) : "587",
    security: s?.kind === "email" ? s.security : "starttls",
    username: s?.kind === "email" ? s.username : "",
    password: "",
    from: s?.kind === "email" ? s.from : "",
    to: s?.kind === "email" ? s.to.join(", ") : "",
  };
}

function settingsOf(v: Values, editing: boolean) {
  if (v.kind === "webhook") {
    return { kind: "webhook" as const, format: v.format, ...(v.url.trim() === "" && editing ? {} : { url: v.url }) };
  }
  return {
    kind: "email" as const,
    host: v.host,
    port: v.port,
    security: v.security,
    username: v.username,
    ...(v.password === "" && editing ? {} : { password: v.password }),
    from: v.from,
    to: v.to,
  };
}

export function ChannelForm({
  clusterId,
  channel,
  onDone,
}: {
  clusterId: string;
  /** null: a new channel */
  channel: ChannelView | null;
  onDone: (message: string) => void;
}) {
  const trpc = useTRPC();
  const [v, setV] = useState<Values>(() => initial(channel));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const set = <K extends keyof Values>(k: K, value: Values[K]) => setV((old) => ({ ...old, [k]: value }));
  const onError = (e: unknown) => setErrors(fieldErrors(e));
  const create = useMutation(
    trpc.alert.createChannel.mutationOptions({ onSuccess: (c) => onDone(`Added channel "${c.name}".`), onError }),
  );
  const update = useMutation(
    trpc.alert.updateChannel.mutationOptions({ onSuccess: (c) => onDone(`Saved channel "${c.name}".`), onError }),
  );
  const editing = channel !== null;
  const sameKind = editing && channel.kind === v.kind;
  const pending = create.isPending || update.isPending;
  const failed = create.error ?? update.error;

  function submit(e: FormEvent) {
    e.preventDefault();
    const settings = settingsOf(v, sameKind);
    const local: Record<string, string> = {};
    if (v.name.trim() === "") local.name = "Name is required";
    const checked = zChannelSettings.safeParse(settings);
    if (!checked.success) {
      for (const i of checked.error.issues) local[["settings", ...i.path.map(String)].join(".")] ??= i.message;
    }
    if (!sameKind && v.kind === "webhook" && v.url.trim() === "") local["settings.url"] = "URL is required";
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    const input = { name: v.name, enabled: v.enabled, settings: settings as never };
    if (editing) update.mutate({ id: channel.id, version: channel.version, ...input });
    else create.mutate({ clusterId, ...input });
  }

  const err = (key: string) => (errors[key] ? [errors[key]] : undefined);
  const placed = Object.keys(errors).length;
  const text = (id: string, key: keyof Values, label: string, field: string, extra: Record<string, unknown> = {}) => (
    <Field id={id} label={label} errors={err(field)} hint={extra.hint as string | undefined}>
      <input
        {...inputProps(id, err(field))}
        value={v[key] as string}
        onChange={(e) => set(key, e.target.value as never)}
        type={(extra.type as string | undefined) ?? "text"}
        placeholder={extra.placeholder as string | undefined}
        autoComplete="off"
      />
    </Field>
  );

  return (
    <form
      onSubmit={submit}
      aria-label={editing ? `Edit channel ${channel.name}` : "New alert channel"}
      className="card"
    >
      <h3 style={{ marginTop: 0 }}>{editing ? `Edit channel "${channel.name}"` : "New alert channel"}</h3>
      {text("channel-name", "name", "Name", "name")}
      <Field id="channel-kind" label="Kind" errors={err("settings.kind")}>
        <select
          {...inputProps("channel-kind", err("settings.kind"))}
          value={v.kind}
          onChange={(e) => set("kind", e.target.value as Values["kind"])}
        >
          <option value="webhook">Webhook</option>
          <option value="email">Email (SMTP)</option>
        </select>
      </Field>
      {v.kind === "webhook" ? (
        <>
          <Field id="channel-format" label="Format" errors={err("settings.format")}>
            <select
              {...inputProps("channel-format", err("settings.format"))}
              value={v.format}
              onChange={(e) => set("format", e.target.value as Values["format"])}
            >
              <option value="json">Generic JSON</option>
              <option value="slack">Slack-compatible</option>
            </select>
          </Field>
          {text("channel-url", "url", "URL", "settings.url", {
            type: "password",
            placeholder: sameKind
              ? `stored: ${channel.secretHint} (leave empty to keep it)`
              : "https://hooks.example.com/…",
            hint: "(kept encrypted; it usually carries a token)",
          })}
        </>
      ) : (
        <>
          {text("channel-host", "host", "SMTP server", "settings.host", { placeholder: "smtp.example.com" })}
          {text("channel-port", "port", "Port", "settings.port", { type: "number" })}
          <Field id="channel-security" label="Security" errors={err("settings.security")}>
            <select
              {...inputProps("channel-security", err("settings.security"))}
              value={v.security}
              onChange={(e) => set("security", e.target.value as Values["security"])}
            >
              <option value="starttls">STARTTLS (usually port 587)</option>
              <option value="tls">TLS (usually port 465)</option>
              <option value="none">None (a relay on a trusted network)</option>
            </select>
          </Field>
          {text("channel-username", "username", "User name", "settings.username", { hint: "(empty: no login)" })}
          {text("channel-password", "password", "Password", "settings.password", {
            type: "password",
            placeholder: sameKind && channel.secretHint !== "" ? "stored (leave empty to keep it)" : "",
          })}
          {text("channel-from", "from", "From", "settings.from", { placeholder: "gatehouse@example.com" })}
          {text("channel-to", "to", "Recipients", "settings.to", {
            placeholder: "noc@example.com, oncall@example.com",
            hint: "(commas or spaces between addresses)",
          })}
        </>
      )}
      <CheckField id="channel-enabled" label="Enabled">
        <input
          id="channel-enabled"
          type="checkbox"
          checked={v.enabled}
          onChange={(e) => set("enabled", e.target.checked)}
        />
      </CheckField>
      <FormAlert
        messages={failed ? [placed > 0 ? "Not saved: fix the fields marked above." : errorMessage(failed)] : []}
      />
      <div className="row">
        <button className="primary" type="submit" disabled={pending}>
          {pending ? "Saving…" : editing ? "Save channel" : "Add channel"}
        </button>
        <button type="button" onClick={() => onDone("")} disabled={pending}>
          Cancel
        </button>
      </div>
    </form>
  );
}
