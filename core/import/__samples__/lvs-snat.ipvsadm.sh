#!/bin/sh
# lvs-snat on gw-a: two uplinks, set up at boot
ipvsadm -C

# the SNAT service (fwmark 1)
ipvsadm -A -f 1 -s snat_sched
ipvsadm -P -f 1 -z 192.0.2.250
# office LAN via ISP A, sticky per source
ipvsadm  -K  -F 10.1.0.0/16   -T 0.0.0.0/0 -W 198.51.100.1 --oif eth1 -U 192.0.2.10-192.0.2.20 -O sh
# lab to one partner network, hash of source + destination
ipvsadm -K -F 10.2.0.0/255.255.0.0 -T 203.0.113.0/24 -W 198.51.100.1 --oif eth1 -U 192.0.2.21–25 -O sdh
ipvsadm -K -F 10.3.0.0/16 -W 100.64.0.1 --oif eth2 -U 100.64.10.1-100.64.10.8 -O random -N 198.51.100.1
ipvsadm -K -F 10.4.0.0/16 -W 100.64.0.1 --oif eth2
-A -t 192.0.2.80:80 -s wrr -p 300
-a -t 192.0.2.80:80 -r 10.9.0.1:80 -m -w 1
-a -t 192.0.2.80:80 -r 10.9.0.2:80 -g -w 2
-A -u 192.0.2.53:53 -s rr
