"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Field } from "../components/field";
import { errorMessage } from "../lib/errors";
import { safeNextPath } from "../lib/next-path";
import { useTRPC } from "../lib/trpc";

export default function LoginPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: (result) => {
        // nothing cached before signing in may decide anything now: above all not the "not signed in" answer of
        // the session query, which would send the console straight back here
        queryClient.removeQueries();
        queryClient.setQueryData(trpc.auth.me.queryKey(), () => ({ ...result.user, csrfToken: result.csrfToken }));
        const next = new URLSearchParams(window.location.search).get("next");
        router.replace(safeNextPath(next, window.location.origin));
      },
    }),
  );

  function submit(e: FormEvent) {
    e.preventDefault();
    login.mutate({ username, password });
  }

  return (
    <main className="login-wrap">
      <form className="card login-card" onSubmit={submit} aria-label="Sign in">
        <h1>Gatehouse</h1>
        <p className="muted">Sign in to manage your gateway clusters.</p>
        {login.error && (
          <div className="banner error" role="alert">
            {errorMessage(login.error)}
          </div>
        )}
        <Field id="username" label="User name">
          <input
            id="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoFocus
            required
          />
        </Field>
        <Field id="password" label="Password">
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </Field>
        <button className="primary" type="submit" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
