#!/usr/bin/env bash
# Installs what the tests need from Debian when it is missing: etcd-server
# (the real etcd every storage test runs against) and etcd-client (etcdctl,
# used by fixture tests). Runs as root on CI and developer machines.
set -euo pipefail
missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-etcd: installing ${missing[*]} with apt-get" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The package enables a system etcd on 2379; our tests and demo start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then $SUDO systemctl stop etcd || true; fi
command -v etcd >/dev/null && command -v etcdctl >/dev/null
