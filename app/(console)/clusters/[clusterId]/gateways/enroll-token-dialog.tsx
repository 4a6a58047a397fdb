"use client";

import { Field } from "../../../../components/field";
import { Modal } from "../../../../components/modal";
import { CopyButton, DownloadButton } from "../../../../components/copy-button";
import { enrollCommands, installCommands } from "./present";

/** A gateway's one-time enrollment token, as the console issues it when adding a gateway or a new token. */
export interface IssuedToken {
  name: string;
  enrollToken: string;
  enrollExpiresAt: Date;
  consoleUrl: string | null;
}

/** The one time a token is shown: the token, the commands that use it, and a warning. */
function EnrollTokenPanel({ issued }: { issued: IssuedToken }) {
  const url = issued.consoleUrl ?? window.location.origin;
  const commands = enrollCommands(url, issued.enrollToken);
  const install = installCommands(url);
  return (
    <div>
      <div className="banner warn" role="status">
        This enrollment token for <strong>{issued.name}</strong> is shown only now. It works once, until{" "}
        {issued.enrollExpiresAt.toLocaleString()}.
      </div>
      <Field id="enroll-token" label="Enrollment token">
        <div className="row">
          <input
            id="enroll-token"
            className="mono"
            readOnly
            value={issued.enrollToken}
            onFocus={(e) => e.target.select()}
          />
          <CopyButton text={issued.enrollToken} label="Copy token" />
          <DownloadButton
            text={`${issued.enrollToken}\n`}
            filename={`${issued.name}.enroll-token`}
            label="Download token"
          />
        </div>
      </Field>
      <Field id="install-command" label="Install the agent, as root, if the gateway has none yet">
        <textarea
          id="install-command"
          className="mono"
          readOnly
          rows={2}
          value={install}
          onFocus={(e) => e.target.select()}
        />
        <div className="row" style={{ marginTop: 6 }}>
          <CopyButton text={install} label="Copy install commands" />
          <span className="hint muted small">
            One file, run by node 20 or later, and its systemd unit, both from this console. The download names the
            agent's version and sha256 in its <code>x-gatehouse-agent-*</code> headers.
          </span>
        </div>
      </Field>
      <Field id="enroll-command" label="Run on the gateway, as root">
        <textarea
          id="enroll-command"
          className="mono"
          readOnly
          rows={3}
          value={commands}
          onFocus={(e) => e.target.select()}
        />
        <div className="row" style={{ marginTop: 6 }}>
          <CopyButton text={commands} label="Copy commands" />
          <span className="hint muted small">
            The token goes through a file only root can read, never a command line, and the file is removed once used.
          </span>
        </div>
      </Field>
    </div>
  );
}

/** Shows a just-issued token once, until the admin is done with it. */
export function EnrollTokenDialog({
  title,
  issued,
  onClose,
}: {
  title: string;
  issued: IssuedToken;
  onClose: () => void;
}) {
  return (
    <Modal title={title} onClose={onClose}>
      <EnrollTokenPanel issued={issued} />
      <div className="row">
        <div className="spacer" />
        <button className="primary" type="button" onClick={onClose}>
          Done
        </button>
      </div>
    </Modal>
  );
}
