"use client";

import type { ReactNode, Ref } from "react";

/** The search box of a table's toolbar. */
export function SearchControl({
  id,
  placeholder,
  value,
  onChange,
  shortcut,
  inputRef,
}: {
  id: string;
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
  /** the key that focuses it, shown in the label */
  shortcut?: string;
  inputRef?: Ref<HTMLInputElement>;
}) {
  return (
    <div className="control">
      <label htmlFor={id}>
        Search
        {shortcut && (
          <>
            {" "}
            <kbd>{shortcut}</kbd>
          </>
        )}
      </label>
      <input
        ref={inputRef}
        id={id}
        type="search"
        placeholder={placeholder}
        value={value}
        onChange={(x) => onChange(x.target.value)}
      />
    </div>
  );
}

/** A labelled select of a table's toolbar that narrows the rows. */
export function FilterSelect({
  id,
  label,
  value,
  onChange,
  children,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  children: ReactNode;
}) {
  return (
    <div className="control">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(x) => onChange(x.target.value)}>
        {children}
      </select>
    </div>
  );
}

/** A checkbox of a table's toolbar that narrows the rows. */
export function FilterCheck({
  id,
  label,
  checked,
  onChange,
}: {
  id: string;
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  return (
    <label className="check" htmlFor={id} style={{ marginBottom: 6 }}>
      <input id={id} type="checkbox" checked={checked} onChange={(x) => onChange(x.target.checked)} />
      {label}
    </label>
  );
}

/** One option per entity, by name, valued with its id. */
export function NameOptions({ items }: { items: readonly { entity: { id: string; name: string } }[] | undefined }) {
  return (
    <>
      {(items ?? []).map((i) => (
        <option key={i.entity.id} value={i.entity.id}>
          {i.entity.name}
        </option>
      ))}
    </>
  );
}
