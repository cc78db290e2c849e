#!/bin/sh
# Builds (or removes) the network pasteur's TAP mode runs on, as the
# original unikernel's tap.sh did: a bridge br1 holding the host's address
# on that network (the gateway pasteur is given), and a persistent TAP
# device enslaved to it, owned by the user who will run pasteur.
#
#   sudo scripts/tap.sh up      # br1 = 10.0.0.1/24, tap100 in br1
#   sudo BRIDGE_ADDR6=fd00::1/64 scripts/tap.sh up   # dual stack
#   sudo scripts/tap.sh down
#
# Override with BRIDGE, BRIDGE_ADDR, TAP and TAP_USER (default: $SUDO_USER
# or root). BRIDGE_ADDR6 gives the bridge an IPv6 address too, the gateway
# of pasteur's --ipv6 (empty: IPv4 only; BRIDGE_ADDR= with it: IPv6 only).
# To let pasteur reach the internet (a forge, Let's Encrypt), set UPLINK to
# the host's outgoing interface: IP forwarding is turned on and the
# bridge's networks are masqueraded there (needs nft; for IPv6, NAT66 of a
# unique local prefix: a routed prefix of your own needs no NAT).
set -eu
BRIDGE=${BRIDGE:-br1}
BRIDGE_ADDR=${BRIDGE_ADDR-10.0.0.1/24}
BRIDGE_ADDR6=${BRIDGE_ADDR6:-}
TAP=${TAP:-tap100}
TAP_USER=${TAP_USER:-${SUDO_USER:-root}}
UPLINK=${UPLINK:-}

up() {
	ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
	[ -z "$BRIDGE_ADDR" ] || ip addr replace "$BRIDGE_ADDR" dev "$BRIDGE"
	[ -z "$BRIDGE_ADDR6" ] || ip -6 addr replace "$BRIDGE_ADDR6" dev "$BRIDGE" nodad
	ip link set "$BRIDGE" up
	ip link show "$TAP" >/dev/null 2>&1 || ip tuntap add dev "$TAP" mode tap user "$TAP_USER"
	ip link set "$TAP" master "$BRIDGE"
	ip link set "$TAP" up
	if [ -n "$UPLINK" ] && [ -n "$BRIDGE_ADDR" ]; then
		sysctl -q -w net.ipv4.ip_forward=1
		net=$(ip -4 -o addr show dev "$BRIDGE" | awk '{print $4}')
		nft add table ip pasteur
		nft add chain ip pasteur post '{ type nat hook postrouting priority 100 ; }'
		nft add rule ip pasteur post ip saddr "$net" oifname "$UPLINK" masquerade
	fi
	if [ -n "$UPLINK" ] && [ -n "$BRIDGE_ADDR6" ]; then
		sysctl -q -w net.ipv6.conf.all.forwarding=1
		net6=$(ip -6 -o addr show dev "$BRIDGE" scope global | awk '{print $4}')
		nft add table ip6 pasteur
		nft add chain ip6 pasteur post '{ type nat hook postrouting priority 100 ; }'
		nft add rule ip6 pasteur post ip6 saddr "$net6" oifname "$UPLINK" masquerade
	fi
	flags="--tap $TAP"
	[ -z "$BRIDGE_ADDR" ] || flags="$flags --ipv4 <free address in $BRIDGE_ADDR> --ipv4-gateway ${BRIDGE_ADDR%/*}"
	[ -z "$BRIDGE_ADDR6" ] || flags="$flags --ipv6 <free address in $BRIDGE_ADDR6> --ipv6-gateway ${BRIDGE_ADDR6%/*}"
	echo "$TAP is in $BRIDGE ($BRIDGE_ADDR $BRIDGE_ADDR6); run pasteur with $flags"
}

down() {
	ip link del "$TAP" 2>/dev/null || true
	ip link del "$BRIDGE" 2>/dev/null || true
	nft delete table ip pasteur 2>/dev/null || true
	nft delete table ip6 pasteur 2>/dev/null || true
}

case "${1:-}" in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
