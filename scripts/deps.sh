#!/bin/sh
# Installs the Debian packages rbx needs to build and test, only when missing.
# Usage: scripts/deps.sh [build|check|bench]...   (default: build check)
set -eu

build_pkgs="gcc make pkg-config libyaml-dev libjansson-dev libssh-dev libcurl4-openssl-dev libmicrohttpd-dev libgnutls28-dev"
check_pkgs="libcmocka-dev valgrind strace procps python3 openssh-server openssh-client slurm-wlm munge openssl etcd-server prometheus prometheus-alertmanager chromium chromium-driver python3-selenium python3-jsonschema python3-yaml clang clang-tools shellcheck time"
bench_pkgs="hyperfine openssh-server openssh-client ansible-core pdsh clustershell time"

want=""
[ $# -eq 0 ] && set -- build check
for group in "$@"; do
	case "$group" in
	build) want="$want $build_pkgs" ;;
	check) want="$want $build_pkgs $check_pkgs" ;;
	bench) want="$want $build_pkgs $bench_pkgs" ;;
	*) echo "deps.sh: unknown group '$group' (build, check, bench)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "deps.sh: missing packages:$missing; run as root or install sudo" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
