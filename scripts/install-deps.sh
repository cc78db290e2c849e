#!/bin/sh
# Installs, with apt-get, the commands pasteur's tests and benchmarks use,
# when they are missing. Extra command names may be given as arguments.
set -eu
need=""
for cmd in git ip strace curl named dig tsig-keygen chromium sshd ssh-keygen nft dnsmasq htpasswd prlimit systemd-analyze haproxy wrk "$@"; do
	command -v "$cmd" >/dev/null 2>&1 && continue
	case "$cmd" in
	ip) pkg=iproute2 ;;
	sshd) pkg=openssh-server ;;     # the ssh remote of the e2e tests (gitsync)
	ssh-keygen) pkg=openssh-client ;;
	named | tsig-keygen) pkg=bind9 ;;
	dig) pkg=bind9-dnsutils ;;
	nft) pkg=nftables ;;            # packet loss in the e2e tests (no sch_netem here)
	dnsmasq) pkg=dnsmasq-base ;;    # DHCP, router advertisements and DNS of the e2e tests (no service)
	htpasswd) pkg=apache2-utils ;;  # the --auth file of the e2e tests
	prlimit) pkg=util-linux ;;      # the open-file limit of the e2e tests
	systemd-analyze) pkg=systemd ;; # checks contrib/pasteur.service
	haproxy) pkg=haproxy ;;         # the load balancer of the several-instances e2e test
	*) pkg=$cmd ;;
	esac
	need="$need $pkg"
done
# Pebble, Let's Encrypt's test CA (the HTTPS tests), is a Go program.
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
if [ ! -x "$gobin/pebble" ] && ! command -v pebble >/dev/null 2>&1; then
	echo "install-deps: installing pebble into $gobin" >&2
	go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.1
fi
# staticcheck, the linter make test runs.
if [ ! -x "$gobin/staticcheck" ] && ! command -v staticcheck >/dev/null 2>&1; then
	echo "install-deps: installing staticcheck into $gobin" >&2
	go install honnef.co/go/tools/cmd/staticcheck@2026.2.2
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing:$need (run as root, or install them)" >&2
	exit 1
fi
echo "install-deps: installing$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $need
