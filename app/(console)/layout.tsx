"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams, usePathname, useRouter } from "next/navigation";
import { type ReactNode, useEffect, useState } from "react";
import { errorMessage } from "../lib/errors";
import { useTRPC } from "../lib/trpc";

function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const pathname = usePathname();
  const current = pathname === href || (href !== "/" && pathname.startsWith(`${href}/`));
  return (
    <Link href={href} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}

function UserMenu({ username, role }: { username: string; role: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
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
          <button type="button" role="menuitem" className="link" onClick={() => logout.mutate()}>
            Sign out
          </button>
          {logout.error && <div className="field-error">{errorMessage(logout.error)}</div>}
        </div>
      )}
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
          {base && (
            <>
              <div className="section">{cluster.data?.name ?? "Cluster"}</div>
              <NavLink href={base}>Overview</NavLink>
              <NavLink href={`${base}/gateways`}>Gateways</NavLink>
            </>
          )}
        </div>
      </nav>
      <div className="main">
        <div className="topbar">
          <div className="muted small">{cluster.data ? `Cluster ${cluster.data.name}` : ""}</div>
          <UserMenu username={me.data.username} role={me.data.role} />
        </div>
        {children}
      </div>
    </div>
  );
}
