import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { stampPeersOnEveryServer } from "./peer";
import { PEER_HEADER, PEER_TLS_HEADER } from "./peer-header";

describe("stampPeersOnEveryServer", () => {
  it("stamps the socket's address on a server created before or after, over whatever the client sent", async () => {
    const seen: Record<string, unknown>[] = [];
    const server = createServer((req, res) => {
      seen.push({ peer: req.headers[PEER_HEADER], tls: req.headers[PEER_TLS_HEADER] });
      res.end("ok");
    });
    stampPeersOnEveryServer();
    stampPeersOnEveryServer(); // twice is once
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/`, {
        headers: { [PEER_HEADER]: "203.0.113.99", [PEER_TLS_HEADER]: "1", "x-forwarded-for": "203.0.113.98" },
      });
      expect(await res.text()).toBe("ok");
      expect(seen).toEqual([{ peer: "127.0.0.1", tls: "0" }]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
