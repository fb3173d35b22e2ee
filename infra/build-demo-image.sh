#!/usr/bin/env bash
# Builds the bootable demo image the local cloud's SSH test step boots under QEMU: Debian
# bookworm (debootstrap, from Debian's mirror) with a kernel, systemd, openssh-server and
# cloud-init (NoCloud), as one ext4 filesystem in a raw file (mkfs.ext4 -d: no loop device,
# no root mount). The kernel and initrd are copied to /boot/imagecast-{vmlinuz,initrd} so the
# local cloud can boot it directly. Cached: a second run prints the path and does nothing.
#
#   infra/build-demo-image.sh [OUT_DIR]      -> OUT_DIR/imagecast-demo-debian.raw
#                                               OUT_DIR/imagecast-demo-debian-nosshd.raw (sshd masked: a broken image)
#
# OUT_DIR defaults to the user's cache, outside the clone and keyed by VERSION, so every clone
# on this machine (CI's fresh clones, worktrees) shares one build: $IMAGECAST_CACHE_DIR, else
# $XDG_CACHE_HOME/imagecast, else ~/.cache/imagecast.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=3   # bump to rebuild cached images
OUT=${1:-${IMAGECAST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imagecast}/demo-images-v$VERSION}
IMAGE="$OUT/imagecast-demo-debian.raw"
BROKEN="$OUT/imagecast-demo-debian-nosshd.raw"
cached() { [ -f "$IMAGE" ] && [ -f "$BROKEN" ] && [ "$(cat "$OUT/.version" 2>/dev/null)" = "$VERSION" ]; }
if cached; then
  echo "$IMAGE"
  exit 0
fi
mkdir -p "$OUT"
# Two clones (or two test files) asking at once: one builds, the other waits and uses it.
exec 9>"$OUT/.lock"
flock 9
if cached; then
  echo "$IMAGE"
  exit 0
fi
echo "build-demo-image: building the bootable Debian demo image into $OUT (once per machine: about 2 minutes)" >&2
work=$(mktemp -d)
log="$work/build.log"
trap 'rm -rf "$work"' EXIT
fail() { echo "build-demo-image: $1" >&2; tail -n 30 "$log" >&2; exit 1; }

root="$work/rootfs"
debootstrap --variant=minbase \
  --include=linux-image-amd64,systemd-sysv,udev,openssh-server,cloud-init,python3-cffi-backend,ifupdown,isc-dhcp-client,iproute2,sudo \
  bookworm "$root" http://deb.debian.org/debian >"$log" 2>&1 || fail "debootstrap failed"

echo imagecast-demo > "$root/etc/hostname"
echo '/dev/vda / ext4 defaults 0 1' > "$root/etc/fstab"
# cloud-init: NoCloud only (the local cloud seeds it over HTTP); no cloud probing at boot.
# C.UTF-8 is the one locale a minimal Debian has (cloud-init's default en_US.UTF-8 is not generated).
printf 'datasource_list: [ NoCloud, None ]\nlocale: C.UTF-8\n' > "$root/etc/cloud/cloud.cfg.d/90-imagecast.cfg"
# Host keys are made at first boot, never baked into the image (cloud-init makes them; the
# drop-in makes any still missing, so sshd never fails for want of one).
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=/usr/bin/ssh-keygen -A\n' > "$root/etc/systemd/system/ssh.service.d/host-keys.conf"
cp -L "$root/vmlinuz" "$root/boot/imagecast-vmlinuz"
cp -L "$root/initrd.img" "$root/boot/imagecast-initrd"
chroot "$root" apt-get clean >"$log" 2>&1 || true
rm -rf "$root"/var/lib/apt/lists/*

make_image() {
  rm -f "$1.part"
  truncate -s 2G "$1.part"
  mkfs.ext4 -q -F -L root -d "$root" "$1.part" >"$log" 2>&1 || fail "mkfs.ext4 $1 failed"
  mv "$1.part" "$1"
}
make_image "$IMAGE"
# The broken variant: sshd masked, so no SSH ever answers.
ln -sf /dev/null "$root/etc/systemd/system/ssh.service"
make_image "$BROKEN"
echo "$VERSION" > "$OUT/.version"
echo "$IMAGE"
