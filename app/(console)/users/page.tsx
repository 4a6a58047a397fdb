"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Field, inputProps, withSubject } from "../../components/field";
import { errorMessage, fieldErrors } from "../../lib/errors";
import { useTRPC } from "../../lib/trpc";
import { TokensSection } from "./tokens";

const ROLE_HELP = {
  viewer: "reads everything",
  operator: "also edits, publishes and fails over",
  admin: "also manages users and gateways",
} as const;
type Role = keyof typeof ROLE_HELP;

function NewUserForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const create = useMutation(
    trpc.user.create.mutationOptions({
      onSuccess: async () => {
        setUsername("");
        setPassword("");
        await queryClient.invalidateQueries({ queryKey: trpc.user.list.queryKey() });
      },
    }),
  );
  const errors = fieldErrors(create.error);
  const usernameErrors = withSubject("User name", errors.username);
  const passwordErrors = withSubject("Password", errors.password);
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ username, password, role });
  }
  return (
    <form className="card" onSubmit={submit} aria-label="New user" style={{ maxWidth: 720, marginBottom: 16 }}>
      <h2 style={{ marginTop: 0 }}>New user</h2>
      {create.error && Object.keys(errors).length === 0 && (
        <div className="banner error" role="alert">
          {errorMessage(create.error)}
        </div>
      )}
      <div className="row" style={{ alignItems: "flex-start" }}>
        <Field id="new-username" label="User name" errors={usernameErrors} style={{ flex: 1 }}>
          <input
            {...inputProps("new-username", usernameErrors)}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </Field>
        <Field id="new-password" label="Password" errors={passwordErrors} style={{ flex: 1 }}>
          <input
            {...inputProps("new-password", passwordErrors)}
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <Field id="new-role" label="Role" style={{ width: 160 }}>
          <select id="new-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {(Object.keys(ROLE_HELP) as Role[]).map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div className="row">
        <button className="primary" type="submit" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create user"}
        </button>
        <span className="muted small">
          {role}: {ROLE_HELP[role]}
        </span>
      </div>
    </form>
  );
}

export default function UsersPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const users = useQuery({ ...trpc.user.list.queryOptions(), enabled: me.data?.role === "admin" });
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.user.list.queryKey() });
  const update = useMutation(trpc.user.update.mutationOptions({ onSettled: invalidate }));
  const remove = useMutation(trpc.user.delete.mutationOptions({ onSettled: invalidate }));
  const failure = update.error ?? remove.error;

  if (me.data && me.data.role !== "admin") {
    return <div className="banner warn">Only admins manage users. You are signed in as {me.data.role}.</div>;
  }
  return (
    <>
      <h1>Users</h1>
      <NewUserForm />
      {failure && (
        <div className="banner error" role="alert">
          {errorMessage(failure)}
        </div>
      )}
      {users.isPending && <div className="loading">Loading users…</div>}
      {users.error && <div className="banner error">{errorMessage(users.error)}</div>}
      {users.data && (
        <table className="data" aria-label="Users">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>State</th>
              <th>Created</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data.map((u) => (
              <tr key={u.id}>
                <td>{u.username}</td>
                <td>
                  <select
                    aria-label={`Role of ${u.username}`}
                    value={u.role}
                    disabled={update.isPending}
                    onChange={(e) => update.mutate({ id: u.id, version: u.version, role: e.target.value as Role })}
                  >
                    {(Object.keys(ROLE_HELP) as Role[]).map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  {u.disabled ? (
                    <span className="badge danger">disabled</span>
                  ) : (
                    <span className="badge ok">active</span>
                  )}
                </td>
                <td className="small">{new Date(u.createdAt).toLocaleString()}</td>
                <td className="row">
                  <button
                    type="button"
                    onClick={() => update.mutate({ id: u.id, version: u.version, disabled: !u.disabled })}
                    disabled={u.id === me.data?.id}
                  >
                    {u.disabled ? "Enable" : "Disable"}
                  </button>
                  <button
                    type="button"
                    className="danger"
                    disabled={u.id === me.data?.id}
                    onClick={() => {
                      if (window.confirm(`Delete user ${u.username}? Their audit history stays.`)) {
                        remove.mutate({ id: u.id, version: u.version });
                      }
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <TokensSection />
    </>
  );
}
