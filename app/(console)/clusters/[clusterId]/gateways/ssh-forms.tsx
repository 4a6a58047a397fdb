"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
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
  const change = (h: string, p: string) => {
    onTarget(h, p);
    setShown(null);
    onConfirmed(null);
  };
  return (
    <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
      <div className="row" style={{ alignItems: "flex-start" }}>
        <div className="field" style={{ flex: 3 }}>
          <label htmlFor="ssh-host">SSH host</label>
          <input
            id="ssh-host"
            value={host}
            onChange={(e) => change(e.target.value, port)}
            aria-invalid={Boolean(errors.host ?? scanErrors.host)}
            placeholder="gw1.example.net or 10.0.0.5"
          />
          {(errors.host ?? scanErrors.host) && <div className="field-error">Host {errors.host ?? scanErrors.host}</div>}
        </div>
        <div className="field" style={{ flex: 1 }}>
          <label htmlFor="ssh-port">Port</label>
          <input
            id="ssh-port"
            inputMode="numeric"
            value={port}
            onChange={(e) => change(host, e.target.value)}
            aria-invalid={Boolean(errors.port ?? scanErrors.port)}
          />
          {(errors.port ?? scanErrors.port) && <div className="field-error">Port {errors.port ?? scanErrors.port}</div>}
        </div>
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
          <div className="field row" style={{ marginTop: 8 }}>
            <input
              id="ssh-hostkey-ok"
              type="checkbox"
              checked={confirmed?.fingerprint === shown.fingerprint}
              onChange={(e) => onConfirmed(e.target.checked ? shown : null)}
            />
            <label htmlFor="ssh-hostkey-ok" style={{ margin: 0, fontWeight: 400 }}>
              I compared it: this is the gateway's host key
            </label>
          </div>
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
  return (
    <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
      <div className="field">
        <label htmlFor="ssh-user">
          User <span className="hint">(root, or a user with passwordless sudo)</span>
        </label>
        <input id="ssh-user" value={username} onChange={(e) => onUsername(e.target.value)} autoComplete="off" />
        {errors.username && <div className="field-error">User {errors.username}</div>}
      </div>
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
          <div className="field">
            <label htmlFor="ssh-key">Private key</label>
            <textarea
              id="ssh-key"
              className="mono"
              rows={6}
              spellCheck={false}
              autoComplete="off"
              value={auth.privateKey}
              placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
              onChange={(e) => onAuth({ ...auth, privateKey: e.target.value })}
            />
            {errors["auth.privateKey"] && <div className="field-error">Private key {errors["auth.privateKey"]}</div>}
          </div>
          <div className="field">
            <label htmlFor="ssh-passphrase">
              Passphrase <span className="hint">(if the key has one)</span>
            </label>
            <input
              id="ssh-passphrase"
              type="password"
              autoComplete="off"
              value={auth.passphrase ?? ""}
              onChange={(e) => onAuth({ ...auth, passphrase: e.target.value || undefined })}
            />
          </div>
        </>
      ) : (
        <div className="field">
          <label htmlFor="ssh-password">Password</label>
          <input
            id="ssh-password"
            type="password"
            autoComplete="off"
            value={auth.password}
            onChange={(e) => onAuth({ kind: "password", password: e.target.value })}
          />
          {errors["auth.password"] && <div className="field-error">Password {errors["auth.password"]}</div>}
        </div>
      )}
    </fieldset>
  );
}
