#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real, when any is missing:
# Chromium (UI tests), nftables/iproute2/conntrack/fping/iperf3/iptables (datapath tests in network
# namespaces), tcpdump (what an ISP router sees), keepalived and conntrackd (gateway pairs),
# openssh-server (SSH tests against a private sshd), PostgreSQL (the second store), dnsmasq and
# busybox's udhcpc (a DHCP uplink: the ISP's DHCP server and the gateway's client, in namespaces),
# pppoe's pppoe-server and ppp's pppd (a PPPoE uplink: the ISP's access concentrator and the
# gateway's client, in namespaces; the kernel must have PPP and PPPoE for them to run).
# Another apt run (unattended upgrades, a second install) holds the dpkg lock: wait for it.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium || need+=(chromium)
have nft || need+=(nftables)
have ip || need+=(iproute2)
have conntrack || need+=(conntrack)
have fping || need+=(fping)
have iperf3 || need+=(iperf3)
have iptables || need+=(iptables)
have tcpdump || need+=(tcpdump)
[ -x /usr/sbin/keepalived ] || need+=(keepalived)
[ -x /usr/sbin/conntrackd ] || need+=(conntrackd)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
have dnsmasq || need+=(dnsmasq-base)
have busybox || need+=(busybox)
[ -x /usr/sbin/pppoe-server ] || need+=(pppoe)
[ -x /usr/sbin/pppd ] || need+=(ppp)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  lock=(-o DPkg::Lock::Timeout=600)
  apt-get "${lock[@]}" update -qq
  apt-get "${lock[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# promtool, Prometheus's own checker of the metrics text format (the metrics tests run it): taken
# from Debian's prometheus package without installing the package, so no Prometheus server is set
# up or started
PROMTOOL=/var/cache/gatehouse-test/promtool
if [ ! -x "$PROMTOOL" ]; then
  echo "==> fetching promtool from Debian's prometheus package"
  tmp=$(mktemp -d)
  get() { (cd "$tmp" && apt-get -o DPkg::Lock::Timeout=600 download -qq prometheus 2>/dev/null); }
  get || { apt-get -o DPkg::Lock::Timeout=600 update -qq && get; }
  dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$tmp" ./usr/bin/promtool
  install -D -m 0755 "$tmp/usr/bin/promtool" "$PROMTOOL"
  rm -rf "$tmp"
fi
