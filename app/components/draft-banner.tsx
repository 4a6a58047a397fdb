"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useTRPC } from "../lib/trpc";

const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** Shown on every page of a cluster while its draft differs from the published revision. */
export function DraftBanner({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const summary = useQuery(trpc.draft.summary.queryOptions({ clusterId }, { refetchInterval: 15_000 }));
  const changesHref = `/clusters/${clusterId}/changes`;
  if (!summary.data?.dirty || pathname === changesHref) return null;
  const s = summary.data.summary;
  const parts = [
    s.added > 0 ? `${s.added.toLocaleString("en-US")} added` : "",
    s.changed > 0 ? `${s.changed.toLocaleString("en-US")} changed` : "",
    s.removed > 0 ? `${s.removed.toLocaleString("en-US")} removed` : "",
  ].filter(Boolean);
  return (
    <div className="banner warn" role="status" aria-label="Unpublished changes">
      The draft has {plural(s.total, "unpublished change")} ({parts.join(", ")}) against{" "}
      {summary.data.publishedRevision === 0
        ? "an empty cluster (nothing published yet)"
        : `revision ${summary.data.publishedRevision}`}
      . Gateways keep running the published revision. <Link href={changesHref}>Review and publish</Link>
    </div>
  );
}
