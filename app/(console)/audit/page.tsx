"use client";

import { Suspense } from "react";
import { ChainStatus, RetentionCard } from "./integrity";
import { AuditTimeline } from "./timeline";

export default function AuditPage() {
  return (
    <>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 style={{ margin: 0 }}>Audit log</h1>
        <div className="spacer" />
        <ChainStatus />
      </div>
      <p className="muted small" style={{ marginTop: 0 }}>
        Every change, publish, revert, failover, sign-in and gateway apply, newest first. Each event is chained to the
        one before it by its hash, so an altered or deleted event shows up when the log is verified.
      </p>
      <Suspense fallback={<div className="loading">Loading events…</div>}>
        <AuditTimeline />
      </Suspense>
      <div style={{ marginTop: 20 }}>
        <RetentionCard />
      </div>
    </>
  );
}
