"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Field, inputProps, withSubject } from "../../../../components/field";
import { Modal } from "../../../../components/modal";
import { errorMessage, fieldErrors } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";
import { EnrollTokenDialog, type IssuedToken } from "./enroll-token-dialog";
import { DialogActions } from "@/app/components/dialog-actions";

/** Adds a gateway by hand: its name and address, then its enrollment token, shown once. */
export function AddGatewayDialog({ clusterId, onClose }: { clusterId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [address, setAddress] = useState("");
  const [issued, setIssued] = useState<IssuedToken | null>(null);
  const create = useMutation(
    trpc.gateway.create.mutationOptions({
      onSuccess: async (r) => {
        setIssued(r);
        await queryClient.invalidateQueries({ queryKey: trpc.gateway.list.queryKey({ clusterId }) });
      },
    }),
  );
  const errors = fieldErrors(create.error);
  const nameErrors = withSubject("Name", errors.name);
  const addressErrors = withSubject("Address", errors.address);
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ clusterId, name, address });
  }
  if (issued) return <EnrollTokenDialog title={`Enroll ${issued.name}`} issued={issued} onClose={onClose} />;
  return (
    <Modal title="Add gateway" onClose={onClose}>
      <form onSubmit={submit} aria-label="Add gateway">
        {create.error && !errors.name && !errors.address && (
          <div className="banner error" role="alert">
            {errorMessage(create.error)}
          </div>
        )}
        <Field id="gw-name" label="Name" errors={nameErrors}>
          <input
            {...inputProps("gw-name", nameErrors)}
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoFocus
          />
        </Field>
        <Field
          id="gw-address"
          label="Management address"
          hint="(host or IP address you reach it by; optional)"
          errors={addressErrors}
        >
          <input
            {...inputProps("gw-address", addressErrors)}
            value={address}
            onChange={(e) => setAddress(e.target.value)}
          />
        </Field>
        <DialogActions
          onCancel={onClose}
          confirmLabel="Add and show enrollment token"
          pendingLabel="Adding…"
          pending={create.isPending}
        />
      </form>
    </Modal>
  );
}
