"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import type { MouseEvent, ReactNode } from "react";
import { errorMessage } from "../../../lib/errors";
import { useTRPC } from "../../../lib/trpc";
import { connectionsText, gatewayText, ispText, layoutTopology, linkLook, type Tone } from "./topology-layout";
import styles from "./topology.module.css";

/** Refreshed like the health page's fallback: the picture follows reports within a few seconds. */
const REFRESH_MS = 2_000;

const TONE_CLASS: Record<Tone, string | undefined> = {
  ok: styles.ok,
  warn: styles.warn,
  danger: styles.danger,
  muted: styles.muted,
};

/** An element of the picture that opens its page: a keyboard-reachable link named in words. */
function NodeLink({ href, label, children }: { href: string; label: string; children: ReactNode }) {
  const router = useRouter();
  const go = (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    router.push(href);
  };
  return (
    <a href={href} aria-label={label} onClick={go} className={styles.node}>
      <title>{label}</title>
      {children}
    </a>
  );
}

/**
 * The cluster as a picture: LAN networks -> gateways -> ISPs -> the internet, with each gateway's
 * state and VRRP role, each gateway's link to each ISP (up, degraded, down, failed over: in words,
 * dashes and colour), failovers in force, connections per ISP and its pools. Every element links to
 * its page.
 */
export function ClusterTopology({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const topo = useQuery(trpc.failover.topology.queryOptions({ clusterId }, { refetchInterval: REFRESH_MS }));
  const base = `/clusters/${clusterId}`;

  if (topo.data === undefined) {
    if (topo.error) return <div className="banner error">{errorMessage(topo.error)}</div>;
    return <div className="loading">Loading the cluster picture…</div>;
  }
  const t = topo.data;
  if (t.publishedRevision === 0) {
    return (
      <div className="muted" data-testid="topology-empty">
        The picture of the cluster appears once a revision is published.
      </div>
    );
  }
  const layout = layoutTopology(t);
  const gwBox = new Map(layout.gateways.map((g) => [g.id, g]));
  const ispBox = new Map(layout.isps.map((i) => [i.id, i]));
  const net = layout.internet;
  return (
    <figure className={styles.figure} aria-labelledby="topology-caption">
      <figcaption id="topology-caption" className="muted small">
        Traffic flows left to right: LAN networks, gateways, ISPs, the internet. Solid lines carry traffic; dashed lines
        are down, failed over or without a report. Select an element to open its page.
        {topo.error && (
          <span className="field-error" role="status">
            {" "}
            Not updating: {errorMessage(topo.error)}
          </span>
        )}
      </figcaption>
      <svg
        aria-label="Cluster topology"
        className={styles.svg}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        width="100%"
        style={{ maxWidth: layout.width }}
      >
        <defs>
          <marker
            id="topology-arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" className={styles.arrow} />
          </marker>
        </defs>
        <g className={styles.edges}>
          {layout.lans.flatMap((lan) =>
            layout.gateways.map((g) => (
              <line
                key={`${lan.id}-${g.id}`}
                x1={lan.x + lan.w}
                y1={lan.y + lan.h / 2}
                x2={g.x}
                y2={g.y + g.h / 2}
                className={g.gateway.online ? styles.edge : `${styles.edge} ${styles.muted}`}
                strokeDasharray={g.gateway.online ? undefined : "2 4"}
              />
            )),
          )}
          {layout.isps.flatMap((box) =>
            box.isp.links.map((link, n) => {
              const g = gwBox.get(link.gatewayId);
              if (g === undefined) return null;
              const look = linkLook(link, g.gateway);
              // where the failed-over traffic really goes: a second line to the backup
              const backup = link.via === null ? undefined : ispBox.get(link.via.ispId);
              return [
                <line
                  key={`${box.id}-${link.gatewayId}`}
                  x1={g.x + g.w}
                  y1={g.y + g.h / 2}
                  x2={box.x}
                  y2={box.y + 46 + 16 * n}
                  className={`${styles.edge} ${TONE_CLASS[look.tone]}`}
                  strokeDasharray={look.dash || undefined}
                />,
                backup && (
                  <line
                    key={`${box.id}-${link.gatewayId}-via`}
                    x1={g.x + g.w}
                    y1={g.y + g.h / 2}
                    x2={backup.x}
                    y2={backup.y + 12}
                    className={`${styles.edge} ${styles.warn}`}
                    strokeWidth={2.5}
                    markerEnd="url(#topology-arrow)"
                  />
                ),
              ];
            }),
          )}
          {layout.isps.map((box) => (
            <line
              key={`${box.id}-net`}
              x1={box.x + box.w}
              y1={box.y + box.h / 2}
              x2={net.x}
              y2={net.y + net.h / 2}
              className={box.isp.operatorFailover ? `${styles.edge} ${styles.warn}` : styles.edge}
              strokeDasharray={box.isp.operatorFailover ? "8 4" : undefined}
            />
          ))}
        </g>

        {layout.lans.map((lan) => (
          <NodeLink key={lan.id} href={`${base}/${lan.page}`} label={`${lan.title}: ${lan.lines.join(", ")}`}>
            <rect x={lan.x} y={lan.y} width={lan.w} height={lan.h} rx={6} className={styles.box} />
            <text x={lan.x + 10} y={lan.y + 19} className={styles.title}>
              {lan.title}
            </text>
            {lan.lines.map((line, i) => (
              <text key={line} x={lan.x + 10} y={lan.y + 36 + 16 * i} className={styles.mono}>
                {line}
              </text>
            ))}
          </NodeLink>
        ))}

        {layout.gateways.map((box) => {
          const g = box.gateway;
          const text = gatewayText(g);
          return (
            <NodeLink key={box.id} href={`${base}/gateways/${g.id}`} label={`Gateway ${g.name}: ${text}`}>
              <rect
                x={box.x}
                y={box.y}
                width={box.w}
                height={box.h}
                rx={6}
                className={`${styles.box} ${g.online ? styles.ok : styles.muted}`}
                strokeDasharray={g.online ? undefined : "4 3"}
                data-testid={`topology-gateway-${g.name}`}
              />
              <text x={box.x + 10} y={box.y + 20} className={styles.title}>
                {g.online ? "●" : "○"} {g.name}
              </text>
              <text x={box.x + 10} y={box.y + 40} className={styles.small}>
                {text}
              </text>
            </NodeLink>
          );
        })}

        {layout.isps.map((box) => {
          const isp = box.isp;
          const [head, ...rest] = box.lines;
          const label = [
            `ISP ${isp.name} (${isp.interface}): ${ispText(isp)}`,
            connectionsText(isp.connections),
            ...rest.map((l) => l.text),
          ]
            .filter(Boolean)
            .join("; ");
          const tone = head?.tone ?? "ok";
          return (
            <NodeLink key={box.id} href={`${base}/isps`} label={label}>
              <rect
                x={box.x}
                y={box.y}
                width={box.w}
                height={box.h}
                rx={6}
                className={`${styles.box} ${TONE_CLASS[tone]}`}
                strokeDasharray={isp.failedOver ? "8 4" : undefined}
                data-testid={`topology-isp-${isp.name}`}
              />
              <text x={box.x + 10} y={box.y + 18} className={styles.title}>
                {isp.name} <tspan className={styles.small}>{isp.interface}</tspan>
              </text>
              {box.lines.map((l, i) => (
                <text
                  key={l.key}
                  x={box.x + 10}
                  y={box.y + 33 + (i === 0 ? 0 : 1 + 16 * i)}
                  className={`${styles.small} ${TONE_CLASS[l.tone]}`}
                >
                  {l.text}
                </text>
              ))}
            </NodeLink>
          );
        })}

        <NodeLink href={`${base}/health`} label="The internet: link health and failover">
          <ellipse cx={net.x + net.w / 2} cy={net.y + net.h / 2} rx={net.w / 2} ry={net.h / 2} className={styles.box} />
          <text x={net.x + net.w / 2} y={net.y + net.h / 2 + 4} textAnchor="middle" className={styles.title}>
            Internet
          </text>
        </NodeLink>
      </svg>
      {t.gateways.length === 0 && (
        <p className="small">
          No gateway is enrolled yet: <Link href={`${base}/gateways`}>add one on the Gateways page</Link>.
        </p>
      )}
    </figure>
  );
}
