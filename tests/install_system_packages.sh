#!/usr/bin/env bash
# Install the system packages the tests need when they are missing (Debian; run as root).
set -euo pipefail
need=()
# Later issues add chromium (viewer tests) and slurm/munge (cluster tests) here.
for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
