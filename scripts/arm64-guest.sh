#!/usr/bin/env bash
# Builds (once) the emulated arm64 gateway that test/arm64 and bench/arm64 boot with
# qemu-system-aarch64: a Debian 12 arm64 root made by mmdebstrap from Debian packages only, as an
# ext4 disk image (mkfs.ext4 -d, no loop mount), with the kernel and initrd of its own Debian kernel
# package beside it. docs/arm64.md says why each choice.
#
#   scripts/arm64-guest.sh          print the cache directory, building it first when absent
#   scripts/arm64-guest.sh --key    print only the cache key (what the guest is built from)
#
# Cache: ${EDGEOS_ARM64_GUEST_CACHE:-/var/cache/edgeos-test/arm64-guest}/<key>/{root.img,vmlinuz,initrd.img,busybox,built-from}.
# The key is the SHA-256 of this script and of the exact arm64 package versions apt would install
# (apt-cache policy), so a changed recipe or a Debian update builds a new guest from scratch; a
# directory without its `complete` marker is never used. Needs root, mmdebstrap, qemu-user-static
# with binfmt_misc (registered here when missing), e2fsprogs, and `dpkg --add-architecture arm64`.
set -euo pipefail

SUITE=bookworm
MIRRORS=("deb http://deb.debian.org/debian $SUITE main" "deb http://deb.debian.org/debian-security $SUITE-security main")
# What the gateway has before edgeos: an init system (sysvinit starting OpenRC: install.sh writes
# an OpenRC service), Debian's cloud kernel (virtio drivers, netfilter, overlayfs, cgroups; 6.1),
# initramfs-tools to boot it, the packet filters the CNI plugins and Services drive, and the C++
# runtime node links. containerd, runc and the CNI plugins are NOT here: the air-gapped bundle
# installs them, as on a user's device (and its uninstaller removes them).
# No libseccomp2: runc links it, and the bundle carries it (a Yocto/Buildroot device has none);
# a guest with its own copy would hide a bundle without it (the bundle's runc exits 127).
PACKAGES=(sysvinit-core openrc initscripts linux-image-cloud-arm64 initramfs-tools kmod iproute2
          iptables nftables busybox-static libstdc++6 libgcc-s1 procps mount)
ROOT_SIZE=3G
CACHE_BASE=${EDGEOS_ARM64_GUEST_CACHE:-/var/cache/edgeos-test/arm64-guest}
SELF=$(readlink -f "$0")

say() { printf '[arm64-guest] %s\n' "$*" >&2; }
fatal() { printf '[arm64-guest] error: %s\n' "$*" >&2; exit 1; }

dpkg --print-foreign-architectures | grep -qx arm64 \
  || fatal "the arm64 architecture is not enabled: dpkg --add-architecture arm64 && apt-get update (scripts/setup.sh --test does it)"

key() {
  # One apt-cache call (each loads apt's whole cache: seconds under load). Architecture: all
  # packages (initscripts) have no ":arm64" entry and are asked for by their plain name.
  local names=() p versions
  for p in "${PACKAGES[@]}"; do names+=("$p:arm64" "$p"); done
  versions=$(apt-cache policy "${names[@]}" 2>/dev/null | awk '
    /^[^ ].*:$/ { name = substr($0, 1, length($0) - 1); next }
    /^  Candidate: / && $2 != "(none)" { v[name] = $2 }
    END { for (n in v) if (n ~ /:arm64$/ || !((n ":arm64") in v)) print n, v[n] }' | LC_ALL=C sort)
  for p in "${PACKAGES[@]}"; do
    awk -v p="$p" '$1 == p || $1 == p ":arm64" { f = 1 } END { exit !f }' <<< "$versions" || fatal "apt knows no arm64 package $p: apt-get update?"
  done
  { sha256sum "$SELF" | cut -d' ' -f1; printf '%s\n' "$versions"; } | sha256sum | cut -c1-16
}

KEY=$(key) || exit 1
if [ "${1:-}" = --key ]; then echo "$KEY"; exit 0; fi
DIR=$CACHE_BASE/$KEY
if [ -f "$DIR/complete" ]; then echo "$DIR"; exit 0; fi

[ "$(id -u)" = 0 ] || fatal "building the guest needs root (mmdebstrap, chroot)"
for c in mmdebstrap mkfs.ext4 qemu-aarch64-static; do
  command -v "$c" >/dev/null || fatal "$c is missing: scripts/setup.sh --test installs it"
done
# mmdebstrap runs the arm64 packages' maintainer scripts through binfmt_misc + qemu-user.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register
fi

mkdir -p "$CACHE_BASE"
WORK=$(mktemp -d "$CACHE_BASE/.build-$KEY.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
say "building $DIR from Debian $SUITE arm64 (mmdebstrap; a few minutes)"
started=$(date +%s)

# Written into the root before the packages are configured / after they are.
cat > "$WORK/essential-hook.sh" <<'HOOK'
#!/bin/sh
set -e
mkdir -p "$1/etc/initramfs-tools/conf.d"
# A small initrd (gzip: quick to unpack under TCG) with the drivers of the root disk, the console
# and the network, loaded before the root is mounted.
printf 'MODULES=list\nCOMPRESS=gzip\n' > "$1/etc/initramfs-tools/conf.d/edgeos-guest"
mkdir -p "$1/usr/share/initramfs-tools/modules.d"
printf 'virtio_pci\nvirtio_blk\nvirtio_net\nvirtio_console\next4\n' > "$1/usr/share/initramfs-tools/modules.d/edgeos-guest"
HOOK

cat > "$WORK/customize-hook.sh" <<'HOOK'
#!/bin/sh
set -e
R=$1
echo edgeos-arm64 > "$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 edgeos-arm64\n' > "$R/etc/hosts"
printf '/dev/vda / ext4 rw,noatime 0 0\n' > "$R/etc/fstab"
: > "$R/etc/resolv.conf"
# sysvinit runs OpenRC's runlevels (Debian's /etc/init.d/rcS and rc call openrc); a root shell on the virtio console hvc0 is how the host drives
# the machine (no ssh, no password: the console is a unix socket only the host's root can open).
cat > "$R/etc/inittab" <<'EOF'
id:2:initdefault:
si::sysinit:/etc/init.d/rcS
l0:0:wait:/etc/init.d/rc 0
l2:2:wait:/etc/init.d/rc 2
l6:6:wait:/etc/init.d/rc 6
h0:2345:respawn:/usr/local/sbin/guest-console
EOF
mkdir -p "$R/usr/local/sbin"
cat > "$R/usr/local/sbin/guest-console" <<'EOF'
#!/bin/sh
# A root shell on /dev/hvc0 without echo, so the host reads exactly the commands' output.
exec </dev/hvc0 >/dev/hvc0 2>&1
stty raw -echo
echo "GUEST-CONSOLE-READY $(cut -d' ' -f1 /proc/uptime)"
PS1= PS2= exec /bin/sh
EOF
chmod 0755 "$R/usr/local/sbin/guest-console"
# Boot: under TCG every fork/exec of a shell script costs, and Debian's sysinit runlevel (udev,
# mountkernfs, mountall, checkroot, procps, … polling each other in parallel) took minutes. One
# service does what this machine needs instead: the kernel filesystems the initramfs did not
# mount, the host name, the kernel modules containerd, the CNI bridge and Services use (nothing
# loads them by device: no udev), and the network, qemu user-mode networking (10.0.2.0/24; the
# host side forwards only to its own loopback). It `provide`s net, which the edgeos service needs.
cat > "$R/etc/init.d/guest-init" <<'EOF'
#!/sbin/openrc-run
description="kernel filesystems, host name, container runtime modules, eth0 on qemu user-mode networking"
depend() {
  provide net localmount
}
start() {
  mountpoint -q /sys/fs/cgroup || mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
  mkdir -p /dev/pts /dev/shm /run/lock
  mountpoint -q /dev/pts || mount -t devpts -o gid=5,mode=620,ptmxmode=000 devpts /dev/pts
  mountpoint -q /dev/shm || mount -t tmpfs -o nosuid,nodev shm /dev/shm
  hostname -F /etc/hostname
  for m in overlay bridge br_netfilter veth nf_conntrack nf_tables nft_chain_nat xt_MASQUERADE xt_conntrack xt_comment xt_mark xt_addrtype vxlan; do
    modprobe -q "$m" || ewarn "no module $m"
  done
  ip link set lo up
  ip link set eth0 up
  ip addr add 10.0.2.15/24 dev eth0
  ip route add default via 10.0.2.2
  sysctl -q -w net.ipv4.ip_forward=1
}
EOF
chmod 0755 "$R/etc/init.d/guest-init"
cat >> "$R/etc/rc.conf" <<'EOF'
rc_parallel="NO"
rc_cgroup_mode="unified"
rc_logger="NO"
unicode="NO"
EOF
# sysinit: guest-init alone; boot and default: nothing but what gets installed (edgeos). The off
# runlevel keeps Debian's killprocs/sendsigs/umountfs/umountroot: a reboot is a clean shutdown.
rm -f "$R"/etc/runlevels/sysinit/* "$R"/etc/runlevels/boot/* "$R"/etc/runlevels/default/*
ln -s /etc/init.d/guest-init "$R/etc/runlevels/sysinit/guest-init"
passwd -R "$R" -d root >/dev/null 2>&1 || true
rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"* "$R/usr/share/doc" "$R/usr/share/man" "$R/usr/share/locale"
HOOK
chmod +x "$WORK/essential-hook.sh" "$WORK/customize-hook.sh"

mmdebstrap --arch=arm64 --variant=essential --mode=root --quiet \
  --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  --essential-hook="$WORK/essential-hook.sh \"\$1\"" \
  --customize-hook="$WORK/customize-hook.sh \"\$1\"" \
  "$SUITE" "$WORK/root" "${MIRRORS[@]}"

kernel=$(find "$WORK/root/boot" -name 'vmlinuz-*' | sort | tail -1)
initrd=$(find "$WORK/root/boot" -name 'initrd.img-*' | sort | tail -1)
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then fatal "the root has no kernel/initrd in /boot"; fi
cp "$kernel" "$WORK/vmlinuz"
cp "$initrd" "$WORK/initrd.img"
# Debian's arm64 busybox-static, for the test image the guest runs (test/arm64/images.ts).
cp "$WORK/root/bin/busybox" "$WORK/busybox"
# shellcheck disable=SC2016 # dpkg-query's own ${field} syntax, not the shell's
chroot "$WORK/root" dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' > "$WORK/built-from"
mkfs.ext4 -q -F -L edgeos-root -d "$WORK/root" "$WORK/root.img" "$ROOT_SIZE"
rm -rf "$WORK/root"
date -u +%FT%TZ > "$WORK/complete"
rm -f "$WORK"/*.sh
chmod 0755 "$WORK"
mv -T "$WORK" "$DIR"
trap - EXIT
say "built $DIR in $(( $(date +%s) - started )) s ($(du -sh --apparent-size "$DIR/root.img" | cut -f1) image, $(du -sh "$DIR/root.img" | cut -f1) used)"
echo "$DIR"
