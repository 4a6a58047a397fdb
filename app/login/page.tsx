"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { errorMessage } from "../lib/errors";
import { useTRPC } from "../lib/trpc";

export default function LoginPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: async () => {
        // also the signed-out answers cached before the login redirect (auth.me = null): a stale one
        // would send the console straight back here
        await queryClient.invalidateQueries({ refetchType: "all" });
        const next = new URLSearchParams(window.location.search).get("next");
        router.replace(next?.startsWith("/") && !next.startsWith("//") ? next : "/");
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
        <div className="field">
          <label htmlFor="username">User name</label>
          <input
            id="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoFocus
            required
          />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </div>
        <button className="primary" type="submit" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
