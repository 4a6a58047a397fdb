"use client";

import { useQuery } from "@tanstack/react-query";

interface Op {
  summary: string;
  operationId: string;
}

/** A short reference for scripts: how to authenticate and call, and the public procedures. */
export default function ApiReferencePage() {
  const doc = useQuery({
    queryKey: ["openapi"],
    queryFn: async () =>
      (await (await fetch("/api/openapi.json")).json()) as { paths: Record<string, Record<string, Op>> },
  });
  return (
    <>
      <div className="page-head">
        <h1>API reference</h1>
        <span className="muted">
          the machine-readable document is at <a href="/api/openapi.json">/api/openapi.json</a>
        </span>
      </div>
      <div className="card" style={{ marginBottom: 14 }}>
        <p>
          Create a token under Users → API tokens, then send it as <code>Authorization: Bearer TOKEN</code>. Inputs and
          results are wrapped in <code>{'{"json": ...}'}</code>.
        </p>
        <pre className="mono small">{`curl -H "Authorization: Bearer $GATEHOUSE_TOKEN" "$GATEHOUSE_URL/api/trpc/cluster.list"
curl -H "Authorization: Bearer $GATEHOUSE_TOKEN" -H 'content-type: application/json' \\
  -d '{"json":{"clusterId":"ID","text":"-K -F 10.1.0.0/16 --oif eth1 -U 192.0.2.10"}}' \\
  "$GATEHOUSE_URL/api/trpc/import.preview"`}</pre>
        <p>
          Or use the <code>gatehouse</code> command line (GATEHOUSE_URL, GATEHOUSE_TOKEN).
        </p>
      </div>
      <table className="data" aria-label="Procedures">
        <thead>
          <tr>
            <th>Method</th>
            <th>Path</th>
            <th>What it does</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(doc.data?.paths ?? {}).flatMap(([path, ops]) =>
            Object.entries(ops).map(([method, op]) => (
              <tr key={`${method} ${path}`}>
                <td className="mono">{method.toUpperCase()}</td>
                <td className="mono">{path}</td>
                <td>{op.summary}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </>
  );
}
