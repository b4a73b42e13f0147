#!/usr/bin/env bash
# Install the system packages the tests need when they are missing (Debian; run as root).
set -euo pipefail
need=()
# The Makefile passes the package list (TEST_SYSTEM_PACKAGES).
for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
