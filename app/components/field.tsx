"use client";

import type { CSSProperties, ReactNode } from "react";

/** Props that tie an input to its label and its messages. */
export function inputProps(id: string, errors: readonly string[] | undefined) {
  const bad = (errors?.length ?? 0) > 0;
  return { id, "aria-invalid": bad, "aria-describedby": bad ? `${id}-error` : undefined };
}

/**
 * The server's message for one field as the list `Field` shows, opening with the field's name
 * ("Name must not be empty"); nothing when there is none.
 */
export function withSubject(subject: string, message: string | undefined): string[] | undefined {
  return message === undefined ? undefined : [`${subject} ${message}`];
}

/**
 * A labelled form field with its hint and its messages, in words, under it. `children` is the
 * control (input, select, textarea, or a row holding one); give it `inputProps(id, errors)`.
 */
export function Field({
  id,
  label,
  hint,
  errors,
  children,
  className,
  style,
  inline = false,
}: {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  errors?: readonly string[];
  children: ReactNode;
  className?: string;
  style?: CSSProperties;
  /** the label beside the control, in a row with what else `children` holds, instead of above it */
  inline?: boolean;
}) {
  const classes = ["field", inline ? "row" : "", className ?? ""].filter(Boolean).join(" ");
  return (
    <div className={classes} style={style}>
      <label htmlFor={id} style={inline ? { margin: 0 } : undefined}>
        {label} {hint && <span className="hint">{hint}</span>}
      </label>
      {children}
      <FieldErrors id={id} errors={errors} />
    </div>
  );
}

/** A checkbox (or radio button) with its label beside it, then its hint and messages. */
export function CheckField({
  id,
  label,
  hint,
  errors,
  children,
  className,
  style,
}: {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  errors?: readonly string[];
  /** the checkbox itself */
  children: ReactNode;
  className?: string;
  style?: CSSProperties;
}) {
  return (
    <div className={`field${className ? ` ${className}` : ""}`} style={style}>
      <label className="check" htmlFor={id} style={{ margin: 0 }}>
        {children}
        {label} {hint && <span className="hint">{hint}</span>}
      </label>
      <FieldErrors id={id} errors={errors} />
    </div>
  );
}

function FieldErrors({ id, errors }: { id: string; errors: readonly string[] | undefined }) {
  if (!errors || errors.length === 0) return null;
  return (
    <div id={`${id}-error`} className="field-error">
      {errors.map((e) => (
        <div key={e}>{e}</div>
      ))}
    </div>
  );
}

/** Messages about the form as a whole: the server's words for what the fields alone cannot show. */
export function FormAlert({ messages }: { messages: readonly string[] }) {
  if (messages.length === 0) return null;
  return (
    <div className="banner error" role="alert">
      {messages.length === 1 ? (
        messages[0]
      ) : (
        <ul style={{ margin: 0, paddingLeft: 18 }}>
          {messages.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * What the banner of a form says about a failed save. When every problem the server named sits
 * under its field, the banner only says so; otherwise it carries the server's whole message,
 * which names what else in the policy is in the way.
 */
export function saveAlert(error: unknown, placedOnFields: number, unplaced: number, message: string): string[] {
  if (!error) return [];
  if (placedOnFields > 0 && unplaced === 0) return ["Not saved: fix the fields marked below."];
  return [message];
}

/** A labelled one-line text input with its hint and messages. */
export function TextField(props: {
  id: string;
  label: string;
  hint?: string;
  placeholder?: string;
  errors: readonly string[] | undefined;
  value: string;
  disabled: boolean;
  onChange: (value: string) => void;
}) {
  return (
    <Field id={props.id} label={props.label} hint={props.hint} errors={props.errors}>
      <input
        {...inputProps(props.id, props.errors)}
        value={props.value}
        disabled={props.disabled}
        placeholder={props.placeholder}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </Field>
  );
}

/** The keys of a form's text state whose values are strings (what a TextField edits). */
export type TextKeyOf<S> = { [K in keyof S]: S[K] extends string ? K : never }[keyof S];
