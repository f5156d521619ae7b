#!/usr/bin/env bash
# Installs the system tools the tests use for real (iptables, fio, etcd, dig,
# dnsmasq, conntrack, tcpdump, nc, ping, openssl, ip). Idempotent: apt runs
# only when a tool is missing, and only as root; otherwise it says what is
# missing and the tests that need it skip with that reason.
set -euo pipefail

declare -A tool_pkg=(
  [ip]=iproute2 [iptables]=iptables [iptables-save]=iptables [fio]=fio
  [etcd]=etcd-server [etcdctl]=etcd-client [dig]=dnsutils [dnsmasq]=dnsmasq-base
  [conntrack]=conntrack [tcpdump]=tcpdump [nc]=netcat-openbsd [ping]=iputils-ping
  [openssl]=openssl [curl]=curl [ss]=iproute2 [ssh]=openssh-client [chromium]=chromium
  [mkfs.ext4]=e2fsprogs [losetup]=mount
)
missing=()
for tool in "${!tool_pkg[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 \
    || missing+=("${tool_pkg[$tool]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system tools: all present"
  exit 0
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" != 0 ]; then
  echo "system tools missing (not root, not installing): ${pkgs[*]}" >&2
  exit 0
fi
echo "installing system tools: ${pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
