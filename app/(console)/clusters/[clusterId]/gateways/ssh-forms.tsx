"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { CheckField, Field, inputProps, withSubject } from "../../../../components/field";
import { errorMessage, fieldErrors } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";
import { fingerprintCheckCommand } from "./ssh-present";

/** Form pieces shared by "add a gateway over SSH" and "store SSH credentials" on a gateway's page. */

export interface HostKey {
  algorithm: string;
  fingerprint: string;
}

export type AuthInput =
  | { kind: "key"; privateKey: string; passphrase?: string }
  | { kind: "password"; password: string };

/**
 * Host and port, then the host key the server shows, which the admin must confirm after
 * comparing it on the gateway itself (trust on first use). Changing host or port drops the
 * confirmation.
 */
export function HostKeyCheck({
  host,
  port,
  onTarget,
  confirmed,
  onConfirmed,
  errors,
}: {
  host: string;
  port: string;
  onTarget: (host: string, port: string) => void;
  confirmed: HostKey | null;
  onConfirmed: (key: HostKey | null) => void;
  errors: Record<string, string>;
}) {
  const trpc = useTRPC();
  const [shown, setShown] = useState<HostKey | null>(null);
  const scan = useMutation(trpc.gatewaySsh.scanHostKey.mutationOptions({ onSuccess: (k) => setShown(k) }));
  const scanErrors = fieldErrors(scan.error);
  const hostErrors = withSubject("Host", errors.host ?? scanErrors.host);
  const portErrors = withSubject("Port", errors.port ?? scanErrors.port);
  const change = (h: string, p: string) => {
    onTarget(h, p);
    setShown(null);
    onConfirmed(null);
  };
  return (
    <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
      <div className="row" style={{ alignItems: "flex-start" }}>
        <Field id="ssh-host" label="SSH host" errors={hostErrors} style={{ flex: 3 }}>
          <input
            {...inputProps("ssh-host", hostErrors)}
            value={host}
            onChange={(e) => change(e.target.value, port)}
            placeholder="gw1.example.net or 10.0.0.5"
          />
        </Field>
        <Field id="ssh-port" label="Port" errors={portErrors} style={{ flex: 1 }}>
          <input
            {...inputProps("ssh-port", portErrors)}
            inputMode="numeric"
            value={port}
            onChange={(e) => change(host, e.target.value)}
          />
        </Field>
      </div>
      <div className="row">
        <button
          type="button"
          disabled={scan.isPending || host.trim() === ""}
          onClick={() => {
            setShown(null);
            onConfirmed(null);
            scan.mutate({ host: host.trim(), port: Number(port) });
          }}
        >
          {scan.isPending ? "Reading the host key…" : "Read host key"}
        </button>
      </div>
      {scan.error && (
        <div className="banner error" role="alert">
          {errorMessage(scan.error)}
        </div>
      )}
      {shown && (
        <section className="card" aria-label="Host key">
          <div className="small muted">The server shows this {shown.algorithm} host key:</div>
          <div className="mono" style={{ fontSize: 15, margin: "4px 0" }} data-testid="host-key-fingerprint">
            {shown.fingerprint}
          </div>
          <div className="small muted">
            Compare it with what <code>{fingerprintCheckCommand(shown.algorithm)}</code> prints on the gateway's own
            console before you trust it. The console refuses to connect if the key ever changes.
          </div>
          <CheckField
            id="ssh-hostkey-ok"
            label="I compared it: this is the gateway's host key"
            style={{ marginTop: 8 }}
          >
            <input
              id="ssh-hostkey-ok"
              type="checkbox"
              checked={confirmed?.fingerprint === shown.fingerprint}
              onChange={(e) => onConfirmed(e.target.checked ? shown : null)}
            />
          </CheckField>
        </section>
      )}
    </fieldset>
  );
}

const RADIO_LABEL = { fontWeight: 400, margin: 0, display: "inline-flex", gap: 6, alignItems: "center" } as const;

/** User name and either a private key (with optional passphrase) or a password. */
export function CredentialsFields({
  username,
  onUsername,
  auth,
  onAuth,
  errors,
}: {
  username: string;
  onUsername: (v: string) => void;
  auth: AuthInput;
  onAuth: (a: AuthInput) => void;
  errors: Record<string, string>;
}) {
  const keyErrors = withSubject("Private key", errors["auth.privateKey"]);
  const passwordErrors = withSubject("Password", errors["auth.password"]);
  return (
    <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
      <Field
        id="ssh-user"
        label="User"
        hint="(root, or a user with passwordless sudo)"
        errors={withSubject("User", errors.username)}
      >
        <input
          {...inputProps("ssh-user", withSubject("User", errors.username))}
          value={username}
          onChange={(e) => onUsername(e.target.value)}
          autoComplete="off"
        />
      </Field>
      <div className="field row" role="radiogroup" aria-label="Log in with">
        <label style={RADIO_LABEL}>
          <input
            type="radio"
            name="ssh-auth"
            style={{ width: "auto" }}
            checked={auth.kind === "key"}
            onChange={() => onAuth({ kind: "key", privateKey: "" })}
          />{" "}
          Private key
        </label>
        <label style={RADIO_LABEL}>
          <input
            type="radio"
            name="ssh-auth"
            style={{ width: "auto" }}
            checked={auth.kind === "password"}
            onChange={() => onAuth({ kind: "password", password: "" })}
          />{" "}
          Password
        </label>
      </div>
      {auth.kind === "key" ? (
        <>
          <Field id="ssh-key" label="Private key" errors={keyErrors}>
            <textarea
              {...inputProps("ssh-key", keyErrors)}
              className="mono"
              rows={6}
              spellCheck={false}
              autoComplete="off"
              value={auth.privateKey}
              placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
              onChange={(e) => onAuth({ ...auth, privateKey: e.target.value })}
            />
          </Field>
          <Field id="ssh-passphrase" label="Passphrase" hint="(if the key has one)">
            <input
              id="ssh-passphrase"
              type="password"
              autoComplete="off"
              value={auth.passphrase ?? ""}
              onChange={(e) => onAuth({ ...auth, passphrase: e.target.value || undefined })}
            />
          </Field>
        </>
      ) : (
        <Field id="ssh-password" label="Password" errors={passwordErrors}>
          <input
            {...inputProps("ssh-password", passwordErrors)}
            type="password"
            autoComplete="off"
            value={auth.password}
            onChange={(e) => onAuth({ kind: "password", password: e.target.value })}
          />
        </Field>
      )}
    </fieldset>
  );
}
