#!/usr/bin/env bash
# Installs what the project needs from Debian when it is missing: etcd-server
# (the real etcd every storage test, the demo and the benchmark run against),
# etcd-client (etcdctl, used by fixture tests) and chromium (the visualizer's
# browser tests drive /usr/bin/chromium through playwright-core). Runs as root
# on CI and developer machines.
#   ensure-deps.sh          everything (tests)
#   ensure-deps.sh etcd     etcd only (demo, benchmark)
set -euo pipefail
what=${1:-all}
missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
[ "$what" = etcd ] || [ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-deps: installing ${missing[*]} with apt-get" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The package enables a system etcd on 2379; our tests and demo start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then $SUDO systemctl stop etcd || true; fi
command -v etcd >/dev/null && command -v etcdctl >/dev/null && { [ "$what" = etcd ] || [ -x /usr/bin/chromium ]; }
