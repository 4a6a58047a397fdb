"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import Link from "next/link";
import { useParams, usePathname, useRouter } from "next/navigation";
import { type FormEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { DraftBanner } from "../components/draft-banner";
import { HaIncidentBanner } from "../components/ha-incident-banner";
import { PoolUsageBanner } from "../components/pool-usage-banner";
import { Field, inputProps, withSubject } from "../components/field";
import { Modal } from "../components/modal";
import { errorMessage, fieldErrors } from "../lib/errors";
import { useTRPC } from "../lib/trpc";
import { DialogActions } from "@/app/components/dialog-actions";

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
  const [currentPassword, setCurrent] = useState("");
  const [newPassword, setNew] = useState("");
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      // every session of the account ends with a password change, this one too
      onSuccess: () => router.replace("/login"),
    }),
  );
  const errors = fieldErrors(change.error);
  const currentErrors = withSubject("Current password", errors.currentPassword);
  const newErrors = withSubject("New password", errors.newPassword);
  function submit(e: FormEvent) {
    e.preventDefault();
    change.mutate({ currentPassword, newPassword });
  }
  return (
    <Modal title="Change password" onClose={onClose}>
      <form onSubmit={submit}>
        {change.error && Object.keys(errors).length === 0 && (
          <div className="banner error">{errorMessage(change.error)}</div>
        )}
        <Field id="pw-current" label="Current password" errors={currentErrors}>
          <input
            {...inputProps("pw-current", currentErrors)}
            type="password"
            autoComplete="current-password"
            value={currentPassword}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </Field>
        <Field
          id="pw-new"
          label="New password"
          hint="(at least 12 characters; you sign in again afterwards)"
          errors={newErrors}
        >
          <input
            {...inputProps("pw-new", newErrors)}
            type="password"
            autoComplete="new-password"
            value={newPassword}
            onChange={(e) => setNew(e.target.value)}
          />
        </Field>
        <DialogActions
          onCancel={onClose}
          confirmLabel="Change password"
          pendingLabel="Saving…"
          pending={change.isPending}
        />
      </form>
    </Modal>
  );
}

/** The signed-in user's menu: change the password, sign out. */
function UserMenu({ username, role }: { username: string; role: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [changing, setChanging] = useState(false);
  // the dialog opens once the menu has closed and given focus back to its button, so the dialog returns it there
  const changeChosen = useRef(false);
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
      <DropdownMenu.Root>
        <DropdownMenu.Trigger asChild>
          <button type="button">
            {username} <span className="muted">({role})</span> ▾
          </button>
        </DropdownMenu.Trigger>
        <DropdownMenu.Portal>
          <DropdownMenu.Content
            className="usermenu-panel"
            align="end"
            sideOffset={4}
            onCloseAutoFocus={() => {
              if (!changeChosen.current) return;
              changeChosen.current = false;
              setChanging(true);
            }}
          >
            <DropdownMenu.Label className="muted small" style={{ padding: "4px 8px" }}>
              Signed in as {username}
            </DropdownMenu.Label>
            <DropdownMenu.Item asChild onSelect={() => (changeChosen.current = true)}>
              <button type="button" className="link">
                Change password
              </button>
            </DropdownMenu.Item>
            <DropdownMenu.Item
              asChild
              onSelect={(e) => {
                // stays open, so a failure can be read under it
                e.preventDefault();
                logout.mutate();
              }}
            >
              <button type="button" className="link">
                Sign out
              </button>
            </DropdownMenu.Item>
            {logout.error && <div className="field-error">{errorMessage(logout.error)}</div>}
          </DropdownMenu.Content>
        </DropdownMenu.Portal>
      </DropdownMenu.Root>
      {changing && <ChangePasswordDialog onClose={() => setChanging(false)} />}
    </div>
  );
}

export default function ConsoleLayout({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useParams<{ clusterId?: string }>();
  // the session is asked again whenever the console is entered, and only that fresh answer may send the
  // browser to the sign-in page: a cached "not signed in" from before signing in must not
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { refetchOnMount: "always" }));
  const cluster = useQuery(
    trpc.cluster.get.queryOptions({ id: params.clusterId ?? "" }, { enabled: Boolean(params.clusterId && me.data) }),
  );

  useEffect(() => {
    if (me.isSuccess && me.isFetchedAfterMount && !me.isFetching && me.data === null) {
      router.replace(`/login?next=${encodeURIComponent(pathname)}`);
    }
  }, [me.isSuccess, me.isFetchedAfterMount, me.isFetching, me.data, router, pathname]);

  if (me.isPending || !me.data) return <main className="main loading">Loading…</main>;
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
              <NavLink href={`${base}/services`}>Services</NavLink>
              <NavLink href={`${base}/simulate`}>Simulate</NavLink>
              <NavLink href={`${base}/changes`}>Changes</NavLink>
              <NavLink href={`${base}/import`}>Import</NavLink>
              <NavLink href={`${base}/health`}>Health</NavLink>
              <NavLink href={`${base}/alerts`}>Alerts</NavLink>
              <NavLink href={`${base}/gateways`}>Gateways</NavLink>
              <NavLink href={`${base}/revisions`}>Revisions</NavLink>
              <NavLink href={`${base}/history`}>History</NavLink>
              <NavLink href={`${base}/settings`}>Settings</NavLink>
            </>
          )}
        </div>
      </nav>
      <main className="main">
        <header className="topbar">
          <div className="muted small">{cluster.data ? `Cluster ${cluster.data.name}` : ""}</div>
          <UserMenu username={me.data.username} role={me.data.role} />
        </header>
        {params.clusterId && <HaIncidentBanner clusterId={params.clusterId} />}
        {params.clusterId && <PoolUsageBanner clusterId={params.clusterId} />}
        {params.clusterId && <DraftBanner clusterId={params.clusterId} />}
        {children}
      </main>
    </div>
  );
}
