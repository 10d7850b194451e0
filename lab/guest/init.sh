#!/bin/bash
# PID 1 of the User-Mode Linux lab guest. The root filesystem is the host's own, read-write
# (hostfs), so everything a program may write is masked by a tmpfs first; nothing lands on the host.
# Kernel command-line variables (environment here): lab_dir (host temp dir of this lab),
# lab_shares (colon-separated host paths that must stay visible, e.g. the checkout).
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root
log="$lab_dir/guest.log"
exec >>"$log" 2>&1
echo "init: $(date +%T.%N) kernel $(uname -r)"

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run

# Keep the shared paths reachable under their own names after the masks below.
IFS=: read -ra shares <<<"$lab_dir:$lab_shares"
for i in "${!shares[@]}"; do
  [ -d "${shares[$i]}" ] || continue
  mkdir -p "/run/lab/share/$i"
  mount --bind "${shares[$i]}" "/run/lab/share/$i"
done

# Scratch and log directories: empty (logs keep their tree and owners, as empty files).
mask_empty() { [ -d "$1" ] && mount -t tmpfs -o mode=1777 tmpfs "$1"; }
mask_copy() {
  [ -d "$1" ] || return 0
  local m="/run/lab/mask$1"
  mkdir -p "$m"
  cp -a "${@:2}" "$1/." "$m/"
  mount --bind "$m" "$1"
}
mask_empty /tmp
mask_empty /var/tmp
mask_copy /var/log --attributes-only
mount -t tmpfs -o mode=700 tmpfs /root
for d in /etc/corosync /etc/pacemaker /etc/ha.d /etc/keepalived /var/lib/pacemaker /var/lib/corosync \
  /var/lib/pcsd /var/lib/heartbeat /var/lib/ldirectord /var/spool; do
  mask_copy "$d"
done

for i in "${!shares[@]}"; do
  [ -d "/run/lab/share/$i" ] || continue
  mkdir -p "${shares[$i]}"
  mount --bind "/run/lab/share/$i" "${shares[$i]}"
done

# Modules: the host has no /lib/modules for this kernel; point modprobe at UML's tree, for the
# kernel's own requests too (an IPVS scheduler is loaded on first use).
mkdir -p /run/lab/mods /run/lab/modroot/lib/modules
mount -t hostfs -o /usr/lib/uml/modules hostfs /run/lab/mods
ln -s "/run/lab/mods/$(uname -r)" "/run/lab/modroot/lib/modules/$(uname -r)"
printf '#!/bin/sh\nexec /sbin/modprobe -d /run/lab/modroot "$@"\n' >/run/lab/modprobe
chmod 755 /run/lab/modprobe
echo /run/lab/modprobe >/proc/sys/kernel/modprobe
for m in veth bridge dummy ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_sed ip_vs_nq \
  ip_vs_fo ip_vs_ovf ip_vs_dh ip_vs_lblc ip_vs_lblcr ip_vs_mh; do
  /run/lab/modprobe "$m" || echo "init: modprobe $m failed"
done

hostname lvskit-lab
ip link set lo up
echo "init: $(date +%T.%N) ready, starting the agent"
node "$lab_dir/agent.cjs" "$lab_dir/ctl"
echo "init: agent exited ($?), powering off"
poweroff -f
