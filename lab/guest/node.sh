#!/bin/bash
# Sets up one lab host inside its fresh mount and UTS namespaces (already in its network namespace),
# then leaves a holder process that keeps those namespaces alive, and prints the holder's pid.
# usage: node.sh NAME ROLE DIR [BINARY]
set -eu
name=$1 role=$2 dir=$3 binary=${4:-}
hostname "$name"
mkdir -p "$dir"
mount --make-rprivate /

# A private, writable copy of a host directory, seen only by this node.
private_copy() {
  [ -d "$1" ] || return 0
  mkdir -p "$dir/root$1"
  cp -a "$1/." "$dir/root$1/"
  mount --bind "$dir/root$1" "$1"
}

case $role in
director)
  # What corosync, pacemaker and pcs write, per node (lab.md).
  for d in /etc/corosync /etc/pacemaker /etc/ha.d /etc/keepalived /var/lib/corosync /var/lib/pacemaker \
    /var/lib/pcsd /var/lib/heartbeat /var/log/pacemaker /var/log/cluster; do
    private_copy "$d"
  done
  # A private OCF agent directory with lvskit's agent names pointing at the binary under test.
  ocf=/usr/lib/ocf/resource.d/heartbeat
  private_copy "$ocf"
  if [ -n "$binary" ]; then
    ln -sfn "$binary" "$ocf/lvs"
    ln -sfn "$binary" "$ocf/lvsd"
  fi
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /run/crm /run/resource-agents
  chown hacluster:haclient /run/crm
  mount -t tmpfs tmpfs /dev/shm
  ;;
quorum)
  # corosync-qnetd's NSS database and its local socket, per node.
  private_copy /etc/corosync
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /run/corosync-qnetd
  ;;
esac

# Every node can serve HTTP with its own name (real servers do by default).
mkdir -p "$dir/www"
echo "$name" >"$dir/www/index.html"

ip link set lo up
sleep infinity </dev/null >/dev/null 2>&1 &
echo $!
