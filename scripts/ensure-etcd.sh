#!/usr/bin/env bash
# Former name of ensure-deps.sh (which also installs chromium), kept for scripts that still call it.
exec bash "$(dirname "$0")/ensure-deps.sh" "$@"
