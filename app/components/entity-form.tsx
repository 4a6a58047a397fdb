"use client";

import { useMutation } from "@tanstack/react-query";
import { type ChangeEvent, type FormEvent, type ReactNode, useMemo, useRef, useState } from "react";
import type { z } from "zod";
import { zIspFields, zPoolFields, zRuleFields, zZoneFields } from "@/core/policy/model";
import type { FieldsOf } from "@/core/policy/entities";
import { errorMessage } from "../lib/errors";
import { useTRPCClient } from "../lib/trpc";
import { ENTITY_NOUN, type EntityKind } from "@/core/policy/entities";
import type { VersionedRow } from "./entity-kinds";
import { FormAlert, inputProps, saveAlert } from "./field";
import { type GroupedErrors, groupIssues, mergeErrors, serverIssues } from "./form-errors";
import { useRefreshAll } from "./hooks";
import { Modal } from "./modal";
import { DialogActions } from "./dialog-actions";

type Client = ReturnType<typeof useTRPCClient>;

/** The create and update procedures of one entity kind, as the tRPC client has them (`client.isp`). */
interface SaveProcedures<F> {
  create: { mutate(input: { clusterId: string; fields: F }): Promise<unknown> };
  update: { mutate(input: { clusterId: string; id: string; version: number; fields: F }): Promise<unknown> };
}

// Typed per kind, so the compiler checks that each kind's procedures take what its schema accepts;
// the hook, generic in the kind, then needs no casts.
const SCHEMAS: { [K in EntityKind]: z.ZodType<FieldsOf<K>> } = {
  isp: zIspFields,
  pool: zPoolFields,
  zone: zZoneFields,
  rule: zRuleFields,
};
const PROCEDURES: { [K in EntityKind]: (client: Client) => SaveProcedures<FieldsOf<K>> } = {
  isp: (client) => client.isp,
  pool: (client) => client.pool,
  zone: (client) => client.zone,
  rule: (client) => client.rule,
};

/** The form state keys that hold text, which inputs and selects can be bound to as they are. */
type TextKey<S> = { [K in keyof S]: S[K] extends string ? K : never }[keyof S];

const NO_ERRORS: GroupedErrors = { byField: {}, other: [] };

/** What an entity form is, the same every time it opens: written once per kind, at module level. */
export interface EntityFormSpec<K extends EntityKind, E, S> {
  /** also picks the API's schema, so the form refuses what the server would, and the procedures */
  kind: K;
  /** the form's field keys ("name", "monitor.intervalMs"): messages go under the longest that fits */
  fieldKeys: readonly string[];
  /** the form's state for an entity, or for a new one */
  initial: (entity: E | null) => S;
  /** the state as the schema should see it */
  toFields: (state: S) => unknown;
  /** a new entity saved another way than the kind's `create` (an ISP with its first pool); undefined: `create` */
  createWith?: (client: Client, clusterId: string, fields: FieldsOf<K>, state: S) => Promise<unknown> | undefined;
}

/** Ties a form's definition to its types, which the hook and the dialog then infer from it. */
export function entityForm<K extends EntityKind, E, S>(spec: EntityFormSpec<K, E, S>) {
  return spec;
}

/** What an entity form is given each time it opens. */
export interface EntityFormProps<E> {
  clusterId: string;
  /** the entity being edited, null for a new one */
  editing: VersionedRow<E> | null;
  /** leaves the form: after a save, on Cancel and on Escape */
  onClose: () => void;
  /** what the API answered to a save (a rule's answer says where it landed), before the form closes */
  onSaved?: (saved: unknown) => void;
}

/**
 * The editing form of one entity: its state, the check with the API's own schema, the server's
 * messages under the fields they are about, and the save (create or update, then refresh every
 * cluster query and close).
 */
export function useEntityForm<K extends EntityKind, E extends { id: string }, S>(
  spec: EntityFormSpec<K, E, S>,
  { clusterId, editing, onClose, onSaved }: EntityFormProps<E>,
) {
  const { kind, toFields, fieldKeys } = spec;
  const schema = SCHEMAS[kind];
  const refresh = useRefreshAll();
  const client = useTRPCClient();
  const save = PROCEDURES[kind](client);
  const [state, setState] = useState<S>(() => spec.initial(editing?.entity ?? null));
  const [tried, setTried] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const mutation = useMutation({
    mutationFn: (fields: FieldsOf<K>) =>
      editing
        ? save.update.mutate({ clusterId, id: editing.entity.id, version: editing.version, fields })
        : (spec.createWith?.(client, clusterId, fields, state) ?? save.create.mutate({ clusterId, fields })),
    onSuccess: async (saved) => {
      await refresh();
      onSaved?.(saved);
      onClose();
    },
  });
  // checked with the API's own schema once a save was tried, then at every change
  const checked = useMemo(() => schema.safeParse(toFields(state)), [schema, toFields, state]);
  const clientErrors = tried && !checked.success ? groupIssues(kind, checked.error.issues, fieldKeys) : NO_ERRORS;
  const fromServer = groupIssues(kind, serverIssues(mutation.error), fieldKeys, true);
  const errors = mergeErrors(clientErrors, fromServer);
  const alert = saveAlert(
    mutation.error,
    Object.keys(fromServer.byField).length,
    fromServer.other.length,
    errorMessage(mutation.error),
  );
  const errorsOf = (key: string) => errors.byField[key];
  const set = <Key extends keyof S>(key: Key, value: S[Key]) => setState((old) => ({ ...old, [key]: value }));

  function submit(ev: FormEvent) {
    ev.preventDefault();
    setTried(true);
    mutation.reset();
    if (!checked.success) {
      requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    // what the schema accepted, with its defaults and trimming: the same the server will store
    mutation.mutate(checked.data);
  }

  return {
    kind,
    isNew: editing === null,
    state,
    set,
    errors,
    errorsOf,
    /**
     * An input or select that edits one text value, tied to its label and messages. `errorKey`
     * is the field key its messages come under when that is not the state key ("source.cidrs").
     */
    bind<Key extends TextKey<S>>(key: Key, id: string, errorKey: string = String(key)) {
      return {
        ...inputProps(id, errorsOf(errorKey)),
        value: state[key] as string,
        // a select's value is one of its options, which are the values the state allows
        onChange: (ev: ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) =>
          set(key, ev.target.value as S[Key]),
      };
    },
    /** the messages of the banner above the fields */
    alert,
    failed: Boolean(mutation.error),
    pending: mutation.isPending,
    formRef,
    submit,
    onClose,
  };
}

export type EntityForm<S> = ReturnType<typeof useEntityForm<EntityKind, { id: string }, S>>;

/**
 * The dialog around an entity form: the banner for failed saves, the fields, and Cancel and
 * Save. Enter in a field saves (the browser submits the form); Escape cancels (the modal).
 */
export function EntityFormDialog<S>({
  form,
  title,
  intro,
  leadingAction,
  children,
}: {
  form: EntityForm<S>;
  title: string;
  /** above the banner: what the form is about */
  intro?: ReactNode;
  /** at the start of the buttons, e.g. Delete */
  leadingAction?: ReactNode;
  children: ReactNode;
}) {
  const noun = ENTITY_NOUN[form.kind];
  return (
    <Modal title={title} onClose={form.onClose} wide>
      <form ref={form.formRef} onSubmit={form.submit} aria-label={`${form.isNew ? "New" : "Edit"} ${noun}`} noValidate>
        <div className="dialog-body">
          {intro}
          <FormAlert messages={form.alert} />
          {!form.failed && <FormAlert messages={form.errors.other} />}
          {children}
        </div>
        <DialogActions
          leading={
            <>
              {leadingAction}
              <span className="muted small" style={leadingAction ? undefined : { marginRight: "auto" }}>
                <kbd>Enter</kbd> saves, <kbd>Esc</kbd> cancels
              </span>
            </>
          }
          onCancel={form.onClose}
          confirmLabel={`${form.isNew ? "Create" : "Save"} ${noun}`}
          pendingLabel="Saving…"
          pending={form.pending}
        />
      </form>
    </Modal>
  );
}
