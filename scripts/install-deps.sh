#!/bin/sh
# Installs, with apt-get, the commands pasteur's tests and benchmarks use,
# when they are missing. Extra command names may be given as arguments.
set -eu
need=""
for cmd in git ip strace curl "$@"; do
	command -v "$cmd" >/dev/null 2>&1 && continue
	case "$cmd" in
	ip) pkg=iproute2 ;;
	*) pkg=$cmd ;;
	esac
	need="$need $pkg"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing:$need (run as root, or install them)" >&2
	exit 1
fi
echo "install-deps: installing$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $need
