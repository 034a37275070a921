#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: system packages, npm packages, build.
# Quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# tshark: the pcapng writer's files are checked by tshark -r (wireshark-common's setuid question takes its default, no, under DEBIAN_FRONTEND=noninteractive)
APT_PKGS=(clang llvm iputils-ping netcat-openbsd curl libbpf-dev libelf-dev zlib1g-dev bpftool iproute2 iptables nftables tcpdump iperf3 libpcap-dev python3-scapy tcpreplay make g++ python3 procps ethtool chromium fonts-dejavu-core tshark)
# promtool (Debian ships it in the prometheus package): the drops exporter's tests check /metrics with it
APT_PKGS+=(prometheus)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "pktpath setup: missing packages (${missing[*]}); run as root or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "pktpath setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ls fails when a dependency that package.json names is missing (a merge that added one)
if [ ! -d node_modules/commander ] || [ package.json -nt node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  echo "pktpath setup: npm install" >&2
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi

bash scripts/build.sh

# The guest-kernel test tier (function backends) needs QEMU and two Debian kernels; preparing
# them is idempotent and fast once cached. Without them that tier skips with the reason.
if [ "$(id -u)" -eq 0 ] && [ "${PKTPATH_SKIP_GUEST_SETUP:-}" != 1 ]; then
  for k in 6.12 6.1; do
    bash scripts/vm/guest.sh --setup --kernel "$k" >/dev/null 2>&1 || echo "pktpath setup: guest kernel $k unavailable (the guest test tier will skip)" >&2
  done
fi
