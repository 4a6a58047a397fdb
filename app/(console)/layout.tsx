"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams, usePathname, useRouter } from "next/navigation";
import { type FormEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { DraftBanner } from "../components/draft-banner";
import { errorMessage, fieldErrors } from "../lib/errors";
import { useTRPC } from "../lib/trpc";

/** `exact`: only the page itself is current, not the pages below it (a cluster's overview). */
function NavLink({ href, exact = false, children }: { href: string; exact?: boolean; children: ReactNode }) {
  const pathname = usePathname();
  const current = pathname === href || (!exact && href !== "/" && pathname.startsWith(`${href}/`));
  return (
    <Link href={href} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}

function ChangePasswordDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const ref = useRef<HTMLDialogElement>(null);
  const [currentPassword, setCurrent] = useState("");
  const [newPassword, setNew] = useState("");
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      // every session of the account ends with a password change, this one too
      onSuccess: () => router.replace("/login"),
    }),
  );
  const errors = fieldErrors(change.error);
  useEffect(() => ref.current?.showModal(), []);
  function submit(e: FormEvent) {
    e.preventDefault();
    change.mutate({ currentPassword, newPassword });
  }
  return (
    <dialog ref={ref} onClose={onClose} aria-label="Change password">
      <form onSubmit={submit}>
        <h2 style={{ marginTop: 0 }}>Change password</h2>
        {change.error && Object.keys(errors).length === 0 && (
          <div className="banner error">{errorMessage(change.error)}</div>
        )}
        <div className="field">
          <label htmlFor="pw-current">Current password</label>
          <input
            id="pw-current"
            type="password"
            autoComplete="current-password"
            value={currentPassword}
            onChange={(e) => setCurrent(e.target.value)}
          />
          {errors.currentPassword && <div className="field-error">Current password {errors.currentPassword}</div>}
        </div>
        <div className="field">
          <label htmlFor="pw-new">
            New password <span className="hint">(at least 12 characters; you sign in again afterwards)</span>
          </label>
          <input
            id="pw-new"
            type="password"
            autoComplete="new-password"
            value={newPassword}
            onChange={(e) => setNew(e.target.value)}
          />
          {errors.newPassword && <div className="field-error">New password {errors.newPassword}</div>}
        </div>
        <div className="row">
          <button className="primary" type="submit" disabled={change.isPending}>
            {change.isPending ? "Saving…" : "Change password"}
          </button>
          <button type="button" onClick={() => ref.current?.close()}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

function UserMenu({ username, role }: { username: string; role: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [changing, setChanging] = useState(false);
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSuccess: () => {
        queryClient.clear();
        router.replace("/login");
      },
    }),
  );
  return (
    <div className="usermenu">
      <button type="button" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        {username} <span className="muted">({role})</span> ▾
      </button>
      {open && (
        <div className="usermenu-panel" role="menu">
          <div className="muted small" style={{ padding: "4px 8px" }}>
            Signed in as {username}
          </div>
          <button
            type="button"
            role="menuitem"
            className="link"
            onClick={() => {
              setOpen(false);
              setChanging(true);
            }}
          >
            Change password
          </button>
          <button type="button" role="menuitem" className="link" onClick={() => logout.mutate()}>
            Sign out
          </button>
          {logout.error && <div className="field-error">{errorMessage(logout.error)}</div>}
        </div>
      )}
      {changing && <ChangePasswordDialog onClose={() => setChanging(false)} />}
    </div>
  );
}

export default function ConsoleLayout({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useParams<{ clusterId?: string }>();
  const me = useQuery(trpc.auth.me.queryOptions());
  const cluster = useQuery(
    trpc.cluster.get.queryOptions({ id: params.clusterId ?? "" }, { enabled: Boolean(params.clusterId && me.data) }),
  );

  useEffect(() => {
    if (me.isSuccess && me.data === null) router.replace(`/login?next=${encodeURIComponent(pathname)}`);
  }, [me.isSuccess, me.data, router, pathname]);

  if (me.isPending || !me.data) return <div className="main loading">Loading…</div>;
  const base = params.clusterId ? `/clusters/${params.clusterId}` : null;

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">Gatehouse</div>
        <div className="nav">
          <NavLink href="/">Clusters</NavLink>
          <NavLink href="/audit">Audit log</NavLink>
          <NavLink href="/api-reference">API reference</NavLink>
          {me.data.role === "admin" && <NavLink href="/users">Users</NavLink>}
          {base && (
            <>
              <div className="section">{cluster.data?.name ?? "Cluster"}</div>
              <NavLink href={base} exact>
                Overview
              </NavLink>
              <NavLink href={`${base}/rules`}>Rules</NavLink>
              <NavLink href={`${base}/isps`}>ISPs</NavLink>
              <NavLink href={`${base}/pools`}>Pools</NavLink>
              <NavLink href={`${base}/zones`}>Zones</NavLink>
              <NavLink href={`${base}/simulate`}>Simulate</NavLink>
              <NavLink href={`${base}/changes`}>Changes</NavLink>
              <NavLink href={`${base}/import`}>Import</NavLink>
              <NavLink href={`${base}/health`}>Health</NavLink>
              <NavLink href={`${base}/gateways`}>Gateways</NavLink>
              <NavLink href={`${base}/revisions`}>Revisions</NavLink>
              <NavLink href={`${base}/history`}>History</NavLink>
            </>
          )}
        </div>
      </nav>
      <div className="main">
        <div className="topbar">
          <div className="muted small">{cluster.data ? `Cluster ${cluster.data.name}` : ""}</div>
          <UserMenu username={me.data.username} role={me.data.role} />
        </div>
        {params.clusterId && <DraftBanner clusterId={params.clusterId} />}
        {children}
      </div>
    </div>
  );
}
