#!/bin/sh
# udhcpc's event hook, doing for IPv4 what a distribution's default script does: the leased
# address on the interface and the default route via the lease's first router.
# udhcpc sets: $1 (deconfig, bound, renew, leasefail, nak), $interface, $ip, $mask, $router.
set -e
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound | renew)
    if ! ip -4 -o addr show dev "$interface" | grep -q " $ip/$mask "; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/$mask" dev "$interface"
    fi
    for r in $router; do
      ip route replace default via "$r" dev "$interface" proto dhcp
      break
    done
    ;;
esac
exit 0
