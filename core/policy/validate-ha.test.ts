import { describe, expect, it } from "vitest";
import { HA_GATEWAYS, haPolicy } from "../../testkit/ha-fixtures";
import type { Policy } from "./model";
import { type ValidationContext, validatePolicy } from "./validate";

const ctx = { gateways: HA_GATEWAYS };
const messages = (p: Policy, c: ValidationContext = ctx) =>
  validatePolicy(p, c).map((i) => `${i.path.join(".")}: ${i.message}`);

/** A copy of the policy with its settings changed by `edit`. */
function edited(p: Policy, edit: (s: Policy["settings"]) => void): Policy {
  const copy = structuredClone(p);
  edit(copy.settings);
  return copy;
}

describe("high-availability validation", () => {
  it("accepts complete active/standby and active/active clusters", () => {
    expect(messages(haPolicy("active_standby"))).toEqual([]);
    expect(messages(haPolicy("active_active"))).toEqual([]);
  });

  it("refuses VRRP mode without a LAN virtual address", () => {
    const p = edited(haPolicy(), (s) => {
      s.ha.lanVirtualAddress = null;
    });
    expect(messages(p)).toEqual([
      "ha.lanVirtualAddress: LAN virtual address is required in active/standby mode: it is the clients' default gateway",
    ]);
  });

  it("refuses a VRID out of range, naming the field", () => {
    const p = edited(haPolicy(), (s) => {
      (s.ha.links[0] as { vrid: number }).vrid = 300;
    });
    expect(messages(p)).toEqual(["ha.links.0.vrid: VRID must be 255 or less"]);
  });

  it("refuses a VRID used twice on one link", () => {
    // gw-a's LAN and ISP alpha share interface eth0 here: two instances on one link
    const p = edited(haPolicy(), (s) => {
      (s.gateways[0]?.links[0] as { interface: string | null }).interface = "eth0";
      (s.ha.links[0] as { vrid: number }).vrid = 51;
    });
    expect(messages(p)).toEqual([
      'ha.links.0.vrid: VRID 51 of ISP "alpha"\'s link is also used by the LAN instance on interface eth0 of gateway "gw-a"',
    ]);
    const aa = edited(haPolicy("active_active"), (s) => {
      (s.gateways[1] as { vrid: number | null }).vrid = 61;
    });
    expect(messages(aa)).toEqual([
      'gateways.1.vrid: VRID 61 of gateway "gw-b" is also used by gateway "gw-a" on the same links; each group needs its own',
    ]);
  });

  it("refuses a pool address equal to a gateway's own address or a floating address", () => {
    const own = edited(haPolicy(), (s) => {
      (s.gateways[1]?.links[0] as { localAddress: string }).localAddress = "198.51.100.12/24";
    });
    expect(messages(own)).toContain(
      'gateways.1.links.0.localAddress: gateway "gw-b": its own address 198.51.100.12 on ISP "alpha" is also a SNAT address of pool "alpha-onlink"',
    );
    const floating = edited(haPolicy(), (s) => {
      (s.ha.links[0] as { floatingAddress: string }).floatingAddress = "198.51.100.11/24";
    });
    expect(messages(floating)).toEqual([
      'ha.links.0.floatingAddress: 198.51.100.11 is a floating address of the cluster and also a SNAT address of pool "alpha-onlink"',
    ]);
  });

  it("refuses a gateway whose links are incomplete for the ISPs the cluster uses", () => {
    const p = edited(haPolicy(), (s) => {
      (s.gateways[1]?.links[1] as { localAddress: string | null }).localAddress = null;
    });
    // without an override gw-b would take the ISP's address, which gw-a already has
    expect(messages(p)).toEqual([
      'gateways.1.links.1.localAddress: gateway "gw-b": its own address 203.0.113.2 on ISP "beta" is also gateway "gw-a"\'s; each gateway needs its own (set it on the gateway\'s page)',
    ]);
    const none = structuredClone(haPolicy());
    none.isps[1] = { ...(none.isps[1] as Policy["isps"][number]), localAddress: null };
    (none.settings.gateways[1]?.links[1] as { localAddress: string | null }).localAddress = null;
    expect(messages(none)).toEqual([
      'gateways.1.links.1.localAddress: gateway "gw-b" needs its own address on ISP "beta"\'s link: the cluster uses this ISP and VRRP adverts come from it',
    ]);
  });

  it("checks every gateway of the cluster, also one without settings", () => {
    const p = haPolicy();
    const three = { gateways: [...HA_GATEWAYS, { id: "gw-c", name: "gw-c" }] };
    expect(messages(p, three)).toEqual(
      expect.arrayContaining([
        'gateways: gateway "gw-c" needs its LAN interface for high availability',
        'gateways: gateway "gw-c" needs its sync-link address: connection sync is on',
      ]),
    );
    // without the cluster's gateways only the entries are checked
    expect(validatePolicy(p)).toEqual([]);
  });

  it("refuses active/active without a per-gateway LAN virtual address", () => {
    const p = edited(haPolicy("active_active"), (s) => {
      (s.gateways[0] as { lanVirtualAddress: string | null }).lanVirtualAddress = null;
    });
    expect(messages(p)).toEqual([
      'gateways.0.lanVirtualAddress: gateway "gw-a" needs its LAN virtual address in active/active mode: the default gateway of the clients it serves',
    ]);
  });

  it("refuses sync on without addresses", () => {
    const p = edited(haPolicy(), (s) => {
      (s.gateways[0] as { syncAddress: string | null }).syncAddress = null;
    });
    expect(messages(p)).toEqual([
      'gateways.0.syncAddress: gateway "gw-a" needs its sync-link address: connection sync is on',
    ]);
  });

  it("refuses a routed pool without a floating address for the ISP to route it to", () => {
    const p = edited(haPolicy(), (s) => {
      (s.ha.links[1] as { floatingAddress: string | null }).floatingAddress = null;
    });
    expect(messages(p)).toEqual([
      'ha.links.1.floatingAddress: ISP "beta" has routed pool "beta-routed": in active/standby the ISP must route it to a floating link address that moves with the master; set one',
    ]);
  });

  it("refuses a LAN virtual address outside a gateway's LAN or equal to its own", () => {
    const p = edited(haPolicy(), (s) => {
      s.ha.lanVirtualAddress = "100.64.0.3/24";
    });
    expect(messages(p)).toEqual([
      'gateways.1.lanAddress: gateway "gw-b": its own LAN address 100.64.0.3 is the cluster\'s LAN virtual address',
    ]);
  });

  it("needs nothing of standalone gateways but addresses that are not pool addresses", () => {
    const p = edited(haPolicy(), (s) => {
      s.ha.mode = "none";
      (s.gateways[1]?.links[0] as { localAddress: string }).localAddress = "198.51.100.2/24";
    });
    expect(messages(p)).toEqual([]);
    const q = edited(p, (s) => {
      (s.gateways[1]?.links[0] as { localAddress: string }).localAddress = "198.51.100.10/24";
    });
    expect(messages(q)).toEqual([
      'gateways.1.links.0.localAddress: gateway "gw-b": its own address 198.51.100.10 on ISP "alpha" is also a SNAT address of pool "alpha-onlink"',
    ]);
  });
});
