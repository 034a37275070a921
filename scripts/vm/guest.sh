#!/usr/bin/env bash
# scripts/vm/guest.sh [--kernel 6.12|6.1] -- CMD [ARG...]
#
# Runs CMD as root inside a throwaway Debian guest kernel under QEMU TCG (never KVM) and exits
# with CMD's exit code; 125 = the VM itself failed (one-line reason on stderr).
#   - host / is shared read-only (9p), the repository (and $PWD if outside it) read-write at the
#     same path; cwd inside = $PWD; /tmp /run /var/tmp /root are fresh tmpfs
#   - proc, sysfs, devtmpfs, devpts, tracefs, debugfs, bpffs, cgroup2 mounted; lo up
#   - the guest kernel's modules are loadable (kernel autoload and `modprobe` both work)
#   - CMD's stdout/stderr come back on stdout/stderr (not a tty); stdin is /dev/null
#
# Other modes:  --setup   prepare the cache (install qemu etc., fetch + unpack the kernel), no boot
#               --check   print nothing and exit 0 if the harness can run here, else one line, exit 1
#               --which   print the kernel package that would be used
#
# Env: PKTPATH_VM_DIR (cache, default /var/tmp/pktpath-vm), PKTPATH_VM_KPKG (kernel package,
#      overrides --kernel), PKTPATH_VM_TIMEOUT (s, default 600), PKTPATH_VM_MEM (default 1G),
#      PKTPATH_VM_CPUS (default 2), PKTPATH_VM_MODULES (modules to insmod at boot; default none,
#      they autoload), PKTPATH_VM_ENV (names of host env vars to pass in), PKTPATH_VM_DEBUG=1
#      (kernel log + init timings on stderr), PKTPATH_VM_APPEND (extra kernel command line).
# See scripts/vm/README.md.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
VM_DIR=${PKTPATH_VM_DIR:-/var/tmp/pktpath-vm}
TIMEOUT=${PKTPATH_VM_TIMEOUT:-600}
MEM=${PKTPATH_VM_MEM:-1G}
CPUS=${PKTPATH_VM_CPUS:-2}
# Modules insmod'ed at boot (dependency order worked out on the host). Default none: everything
# autoloads on demand through the kernel's module loader, which costs about the same per module.
MODULES=${PKTPATH_VM_MODULES-}
export PATH=$PATH:/usr/sbin:/sbin
APT_OPTS=(-qq -o APT::Sandbox::User=root -o Dpkg::Use-Pty=0)

SERIES=6.12 MODE=run
usage() { sed -n '2,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
die() { echo "guest.sh: $*" >&2; exit 125; }
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) [ $# -ge 2 ] || die "--kernel needs a value"; SERIES=$2; shift 2 ;;
    --kernel=*) SERIES=${1#*=}; shift ;;
    --setup) MODE=setup; shift ;;
    --check) MODE=check; shift ;;
    --which) MODE=which; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
case $SERIES in
  6.12) KGLOB='6.12.*-amd64'; KRE='^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64$'; KMETA=linux-image-6.12-amd64 ;;
  6.1)  KGLOB='6.1.0-*-amd64'; KRE='^linux-image-6\.1\.0-[0-9]+-amd64$'; KMETA=linux-image-amd64 ;;
  *) die "unsupported --kernel '$SERIES' (use 6.12 or 6.1)" ;;
esac
if [ "$MODE" = run ] && [ $# -eq 0 ]; then die "no command given (usage: guest.sh [--kernel 6.12|6.1] -- CMD...)"; fi

have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" -eq 0 ]; }
apt_updated=0
apt_update() { [ $apt_updated = 1 ] && return 0; apt_updated=1; apt-get update -qq >/dev/null 2>&1; }

# --- which kernel package -------------------------------------------------------------------
cached_kver() {   # newest fully prepared kernel of this series in the cache
  local d best=
  for d in "$VM_DIR"/$KGLOB/ready; do [ -f "$d" ] && best+="$(basename "$(dirname "$d")")"$'\n'; done
  [ -n "$best" ] && printf '%s' "$best" | sort -V | tail -n1
}
apt_kpkg() {      # newest package of this series in the apt index
  local dep
  dep=$(apt-cache show --no-all-versions "$KMETA" 2>/dev/null | sed -n 's/^Depends: //p' | tr ',' '\n' |
        sed 's/^ *//; s/ .*//' | grep -E "$KRE" | head -n1)
  [ -n "$dep" ] || dep=$(apt-cache pkgnames linux-image-"$SERIES" 2>/dev/null | grep -E "$KRE" | sort -V | tail -n1)
  [ -n "$dep" ] && printf '%s\n' "$dep"
}
# Sets KPKG and KVER. A prepared kernel in the cache wins (fast, offline, reproducible); delete
# the cache directory or set PKTPATH_VM_KPKG to move to a newer one.
resolve() {
  local kv
  if [ -n "${PKTPATH_VM_KPKG:-}" ]; then KPKG=$PKTPATH_VM_KPKG; KVER=${KPKG#linux-image-}; return 0; fi
  if kv=$(cached_kver) && [ -n "$kv" ]; then KVER=$kv; KPKG=linux-image-$kv; return 0; fi
  KPKG=$(apt_kpkg)
  if [ -z "$KPKG" ] && is_root; then apt_update; KPKG=$(apt_kpkg); fi
  [ -n "$KPKG" ] || return 1
  KVER=${KPKG#linux-image-}
}

# --- --check -----------------------------------------------------------------------------
check() {
  [ "$(uname -m)" = x86_64 ] || { echo "guest VM harness needs an x86_64 host (this is $(uname -m))"; return 1; }
  local kp=${PKTPATH_VM_KPKG:-}
  if have qemu-system-x86_64; then   # fast path: everything cached
    if [ -n "$kp" ]; then [ -f "$VM_DIR/${kp#linux-image-}/ready" ] && return 0
    else [ -n "$(cached_kver)" ] && return 0; fi
  fi
  local missing=()
  have qemu-system-x86_64 || missing+=(qemu-system-x86)
  { have depmod && have modprobe; } || missing+=(kmod)
  have zstd || missing+=(zstd)
  have xz || missing+=(xz-utils)
  have apt-get && have dpkg-deb || { echo "no qemu/kernel cache and no apt-get/dpkg-deb to fetch them"; return 1; }
  if ((${#missing[@]})); then
    is_root || { echo "missing ${missing[*]} and not root to install them"; return 1; }
    local p
    for p in "${missing[@]}"; do
      apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]' && continue
      apt_update
      apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]' || { echo "package $p is not installable from apt"; return 1; }
    done
  fi
  if [ -n "${PKTPATH_VM_KPKG:-}" ]; then
    apt-cache show --no-all-versions "$PKTPATH_VM_KPKG" >/dev/null 2>&1 || { is_root && apt_update; } &&
      apt-cache show --no-all-versions "$PKTPATH_VM_KPKG" >/dev/null 2>&1 ||
      { echo "kernel package $PKTPATH_VM_KPKG is not in the apt index"; return 1; }
  else
    resolve || { echo "no linux-image-$SERIES kernel package in the apt index and none cached in $VM_DIR"; return 1; }
  fi
  mkdir -p "$VM_DIR" 2>/dev/null && [ -w "$VM_DIR" ] || { echo "cache dir $VM_DIR is not writable"; return 1; }
  return 0
}
if [ "$MODE" = check ]; then check; exit; fi

resolve || die "cannot find a linux-image-$SERIES package (apt index empty? run apt-get update)"
[ "$MODE" = which ] && { echo "$KPKG"; exit 0; }
K=$VM_DIR/$KVER

# --- setup (idempotent) ----------------------------------------------------------------------
install_tools() {
  local missing=()
  have qemu-system-x86_64 || missing+=(qemu-system-x86)
  { have depmod && have modprobe; } || missing+=(kmod)    # depmod for the kernel tree; `modprobe` in the guest is the host's
  have zstd || missing+=(zstd)
  have xz || missing+=(xz-utils)
  ((${#missing[@]})) || return 0
  is_root || die "missing ${missing[*]}; run as root or apt-get install ${missing[*]}"
  echo "guest.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y "${APT_OPTS[@]}" --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt_update; apt-get install -y "${APT_OPTS[@]}" --no-install-recommends "${missing[@]}" >/dev/null; } ||
    die "apt-get install ${missing[*]} failed"
}

download() {   # download <pkg> into $PWD
  apt-get download "${APT_OPTS[@]}" "$1" >/dev/null 2>&1 && return 0
  is_root && apt_update && apt-get download "${APT_OPTS[@]}" "$1" >/dev/null && return 0
  return 1
}

extract_vmlinux() {   # bzImage -> uncompressed ELF vmlinux: QEMU boots it via PVH, saving ~3 s of TCG decompression
  local img=$1 out=$2 kind magic off
  for kind in xz zstd gzip; do
    case $kind in xz) magic='\xfd7zXZ\x00' ;; zstd) magic='\x28\xb5\x2f\xfd' ;; gzip) magic='\x1f\x8b\x08' ;; esac
    for off in $(LC_ALL=C grep -obaP "$magic" "$img" | cut -d: -f1); do
      case $kind in
        xz)   tail -c +$((off + 1)) "$img" | xz -dcq --single-stream >"$out" 2>/dev/null ;;
        zstd) tail -c +$((off + 1)) "$img" | zstd -dcq >"$out" 2>/dev/null ;;
        gzip) tail -c +$((off + 1)) "$img" | gzip -dcq >"$out" 2>/dev/null ;;
      esac
      [ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] && return 0
    done
  done
  rm -f "$out"; return 1
}

make_initramfs() {   # $1 = build dir with root/ (unpacked kernel) and busybox
  local B=$1 I=$1/initramfs.d line path n
  rm -rf "$I"; mkdir -p "$I"/{bin,dev,proc,sys,mnt,modules}
  cp "$VM_DIR/busybox" "$I/bin/busybox"
  : >"$I/modules/order"
  # modules needed to reach the 9p shares, in dependency order (built-in ones are skipped)
  while read -r line; do
    case $line in insmod\ *) ;; *) continue ;; esac
    path=${line#insmod }; path=${path%% *}; n=$(basename "$path"); n=${n%%.ko*}
    grep -qx "$n" "$I/modules/order" && continue
    case $path in
      *.ko.xz)  xz -dc "$path" >"$I/modules/$n.ko" ;;
      *.ko.zst) zstd -dcq "$path" >"$I/modules/$n.ko" ;;
      *.ko.gz)  gzip -dc "$path" >"$I/modules/$n.ko" ;;
      *)        cp "$path" "$I/modules/$n.ko" ;;
    esac || return 1
    echo "$n" >>"$I/modules/order"
  done < <(modprobe -d "$B/root" -S "$KVER" --show-depends -a virtio_pci 9pnet_virtio 9p 2>/dev/null)
  # Stage 1 (baked into the cached initramfs, so keep it small and stable; bump IVER when it changes):
  # reach the control share and hand over to the per-run stage 2 that guest.sh writes there.
  cat >"$I/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
exec </dev/null >/dev/ttyS0 2>&1
for m in $(cat /modules/order); do insmod /modules/$m.ko || echo "pktpath-vm: insmod $m failed"; done
mkdir -p /ctl
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ctl /ctl && . /ctl/init.sh
echo "pktpath-vm: cannot mount the control share or run its init.sh"
printf '\001' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null; poweroff -f
INIT
  chmod 755 "$I/init"
  (cd "$I" && find . | "$VM_DIR/busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$B/initramfs.gz.tmp" || return 1
  mv "$B/initramfs.gz.tmp" "$B/initramfs.gz" && rm -rf "$I"
}

# Networking modules are stored uncompressed: decompressing xz inside a TCG guest is ~25x slower.
prepare_tree() {   # $1 = dir with root/ (unpacked kernel package): decompress, depmod, initramfs
  local B=$1 M=$1/root/lib/modules/$KVER/kernel d
  { for d in net lib crypto arch/x86/crypto drivers/net/bonding drivers/net/ipvlan drivers/net/team \
             drivers/net/vxlan drivers/net/wireguard; do
      [ -d "$M/$d" ] && find "$M/$d" -name '*.ko.*'
    done
    find "$M/drivers/net" -maxdepth 1 -name '*.ko.*'
  } | decompress_list || return 1
  depmod -b "$B/root" "$KVER" || return 1
  make_initramfs "$B"
}
decompress_list() {  # stdin: compressed module paths
  local l; l=$(sort -u) || return 1
  { grep '\.ko\.xz$' <<<"$l" | xargs -r -P "$(nproc)" -n 32 xz -dqf; } &&
  { grep '\.ko\.zst$' <<<"$l" | xargs -r -P "$(nproc)" -n 32 zstd -dqf --rm; } &&
  { grep '\.ko\.gz$' <<<"$l" | xargs -r -n 32 gzip -dqf; }
  [ -z "$(grep -E '\.ko\.(xz|zst|gz)$' <<<"$l" | while read -r f; do [ -f "$f" ] && echo "$f"; done)" ]
}

IVER=pktpath-vm-5   # cache layout + stage-1 init version; a mismatch rebuilds the initramfs
setup_kernel() {
  install_tools
  [ "$(cat "$K/ready" 2>/dev/null)" = $IVER ] && return 0
  mkdir -p "$VM_DIR" || die "cannot create $VM_DIR"
  exec 9>"$VM_DIR/.lock" && flock 9 || die "cannot lock $VM_DIR/.lock"
  [ "$(cat "$K/ready" 2>/dev/null)" = $IVER ] && { exec 9>&-; return 0; }
  if [ ! -x "$VM_DIR/busybox" ]; then
    local T; T=$(mktemp -d "$VM_DIR/.bb.XXXXXX") || die "cannot create a temp dir in $VM_DIR"
    (cd "$T" && download busybox-static && dpkg-deb -x busybox-static_*.deb bb) || { rm -rf "$T"; die "cannot download busybox-static"; }
    mv "$T/bb/bin/busybox" "$VM_DIR/busybox"; rm -rf "$T"
  fi
  if [ -f "$K/ready" ] && [ -f "$K/vmlinux" ] && [ -d "$K/root/lib/modules/$KVER" ]; then   # older layout: redo the cheap part
    prepare_tree "$K" || die "cannot prepare $K"
    echo $IVER >"$K/ready"; exec 9>&-; return 0
  fi
  local B t0=$SECONDS
  B=$(mktemp -d "$VM_DIR/.build.XXXXXX") || die "cannot create a build dir in $VM_DIR"
  echo "guest.sh: preparing $KPKG in $K" >&2
  (cd "$B" && download "$KPKG") || { rm -rf "$B"; die "cannot download $KPKG (apt-get download failed)"; }
  dpkg-deb -x "$B"/linux-image-*.deb "$B/root" || { rm -rf "$B"; die "cannot unpack $KPKG"; }
  rm -f "$B"/linux-image-*.deb
  [ -d "$B/root/lib/modules/$KVER" ] || { rm -rf "$B"; die "$KPKG has no lib/modules/$KVER"; }
  extract_vmlinux "$B/root/boot/vmlinuz-$KVER" "$B/vmlinux" || { rm -rf "$B"; die "no ELF vmlinux inside vmlinuz-$KVER"; }
  rm -f "$B/root/boot/vmlinuz-$KVER"
  prepare_tree "$B" || { rm -rf "$B"; die "cannot prepare the module tree / initramfs"; }
  echo $IVER >"$B/ready"; chmod 755 "$B"
  rm -rf "$K"; mv "$B" "$K" || die "cannot move the build into $K"
  echo "guest.sh: $KPKG ready in $((SECONDS - t0)) s" >&2
  exec 9>&-
}
setup_kernel
[ "$MODE" = setup ] && exit 0

# --- run -------------------------------------------------------------------------------------
[ -c /dev/null ] || die "no /dev/null"
CTL=$(mktemp -d "${TMPDIR:-/tmp}/pktpath-vm.XXXXXX") || die "cannot create a temp dir"
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$CTL"; }
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
q() { local s; for s in "$@"; do printf "'%s' " "${s//\'/\'\\\'\'}"; done; }   # POSIX sh quoting
CWD=$(pwd -P)
RW=$REPO
# $PWD outside the repository is shared read-write too, unless it is / or an ancestor of the repository
# (then it stays read-only, like the rest of the host)
case "$CWD/" in "$REPO"/* | //) ;; *) case "$REPO/" in "$CWD"/*) ;; *) RW+=$'\n'$CWD ;; esac ;; esac
{
  printf 'VM_KVER=%s\n' "$(q "$KVER")"
  printf 'VM_KROOT=%s\n' "$(q "$(cd "$K/root" && pwd -P)")"
  printf 'VM_DEBUG=%s\n' "$(q "${PKTPATH_VM_DEBUG:-}")"
  printf 'VM_RW=%s\n' "$(q "$RW")"
  KROOT=$(cd "$K/root" && pwd -P)
  # shellcheck disable=SC2086
  printf 'VM_INSMOD=%s\n' "$(q "$([ -n "$MODULES" ] && modprobe -d "$KROOT" -S "$KVER" --show-depends -a $MODULES 2> >(sed 's/^/guest.sh: PKTPATH_VM_MODULES: /' >&2) |
    sed -n "s|^insmod $KROOT/\([^ ]*\).*|\1|p" | awk '!seen[$0]++')")"
  cat <<'INIT2'
# Stage 2 of the guest init (busybox sh, sourced by the initramfs /init once /ctl is mounted).
O=trans=virtio,version=9p2000.L,msize=512000
bye() {  # leave through isa-debug-exit (instant, no "Power down" noise); poweroff as a fallback
  sync; printf '\001' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null; poweroff -f
}
fail() { echo "$*" >/ctl/err; echo "pktpath-vm: $*"; bye; }
stamp() { [ "$VM_DEBUG" = 1 ] && echo "pktpath-vm: $(cut -d' ' -f1 /proc/uptime) $*"; }
stamp stage2
R=/mnt V=/mnt/run/pktpath-vm
mount -t 9p -o $O,ro,cache=loose root $R || fail "cannot mount the host root (9p)"
mkdir -p /kroot && mount -o bind "$R$VM_KROOT" /kroot && [ -d /kroot/lib/modules/$VM_KVER ] ||
  fail "no kernel module tree at $VM_KROOT"
stamp rootmounted
mount -t proc proc $R/proc && mount -t sysfs sys $R/sys && mount -t devtmpfs dev $R/dev || fail "cannot mount proc/sys/dev"
mkdir -p $R/dev/pts $R/dev/shm; mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts; mount -t tmpfs -o mode=1777 shm $R/dev/shm
mount -t tracefs tracefs $R/sys/kernel/tracing || fail "cannot mount tracefs"
mount -t debugfs debugfs $R/sys/kernel/debug || fail "cannot mount debugfs"
mount -t bpf -o mode=0700 bpf $R/sys/fs/bpf || fail "cannot mount bpffs"
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup || fail "cannot mount cgroup2"
for d in /tmp /var/tmp; do mount -t tmpfs -o mode=1777 tmpfs $R$d || fail "cannot mount tmpfs on $d"; done
for d in /run /root; do mount -t tmpfs -o mode=0755 tmpfs $R$d || fail "cannot mount tmpfs on $d"; done
stamp fsmounted
mkdir -p $V/ctl $V/kroot $V/bin $V/bb
mount -o bind /ctl $V/ctl && mount -o bind /kroot $V/kroot || fail "cannot bind the control share / module tree"
# the kernel's module loader runs in this initramfs root: busybox modprobe over the guest kernel's module tree
# (static, so cheap under TCG), falling back to the host's kmod modprobe (softdeps etc.)
mkdir -p /lib/modules && mount -o bind /kroot/lib/modules /lib/modules || fail "cannot bind the module tree"
printf '#!/bin/sh\n/bin/modprobe "$@" || exec /bin/chroot /mnt /sbin/modprobe -d /run/pktpath-vm/kroot "$@"\n' >/bin/kmodprobe
chmod 755 /bin/kmodprobe; echo /bin/kmodprobe >/proc/sys/kernel/modprobe
printf '#!/bin/sh\nexec /sbin/modprobe -d /run/pktpath-vm/kroot "$@"\n' >$V/bin/modprobe; chmod 755 $V/bin/modprobe
# busybox applets as a last resort on PATH (e.g. ping when the host has no iputils-ping)
cp /bin/busybox $V/bb/busybox && chroot $R /run/pktpath-vm/bb/busybox --install -s /run/pktpath-vm/bb
stamp bb
i=0
while read -r d; do
  [ -n "$d" ] || continue
  mkdir -p "$R$d" 2>/dev/null
  mount -t 9p -o $O,rw,cache=mmap rw$i "$R$d" || fail "cannot mount $d read-write"
  i=$((i + 1))
done <<RWLIST
$VM_RW
RWLIST
stamp mounted
for p in $VM_INSMOD; do   # preload: dependency-ordered list computed on the host
  insmod /kroot/$p 2>/dev/null || { n=${p##*/}; n=${n%%.ko*}; grep -q "^$(echo $n | tr - _) " /proc/modules ||
    echo "pktpath-vm: cannot load module $n" >>/ctl/stderr; }
done
stamp modules
ip link set lo up; hostname pktpath-vm
chroot $R /usr/bin/env -i PATH=/run/pktpath-vm/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/pktpath-vm/bb \
  HOME=/root TERM=dumb LANG=C.UTF-8 PKTPATH_IN_VM=1 /bin/sh /run/pktpath-vm/ctl/cmd.sh \
  </dev/null >>/ctl/stdout 2>>/ctl/stderr
echo $? >/ctl/rc
stamp done
bye
INIT2
} >"$CTL/init.sh"
{
  for v in ${PKTPATH_VM_ENV:-}; do
    [[ $v =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && [ -n "${!v+x}" ] && printf 'export %s=%s\n' "$v" "$(q "${!v}")"
  done
  printf 'cd %s || { echo "cannot cd to %s in the guest" >/run/pktpath-vm/ctl/err; exit 125; }\n' "$(q "$CWD")" "${CWD//[\"\$\`\\]/_}"
  printf 'exec %s\n' "$(q "$@")"
} >"$CTL/cmd.sh"
: >"$CTL/stdout"; : >"$CTL/stderr"

VDEV=virtio-9p-pci
FSDEV=(-fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap" -device $VDEV,fsdev=root,mount_tag=root
       -fsdev "local,id=ctl,path=$CTL,security_model=none" -device $VDEV,fsdev=ctl,mount_tag=ctl
)
i=0
while read -r d; do
  [ -n "$d" ] || continue
  case $d in *,*) die "cannot share a path containing a comma: $d" ;; esac
  FSDEV+=(-fsdev "local,id=rw$i,path=$d,security_model=none,multidevs=remap" -device "$VDEV,fsdev=rw$i,mount_tag=rw$i")
  i=$((i + 1))
done <<<"$RW"
# cryptomgr.notests: skipping the crypto self-tests saves ~1 s of boot under TCG
APPEND="console=ttyS0 ${PKTPATH_VM_APPEND:-} panic=-1 rdinit=/init mitigations=off tsc=reliable no_timer_check cryptomgr.notests"
if [ "${PKTPATH_VM_DEBUG:-}" = 1 ]; then APPEND+=" loglevel=7 printk.time=1"; else APPEND+=" quiet loglevel=3"; fi
: >"$CTL/console"

# NB: /dev/kvm on these hosts is PVM, on which stock kernels do not run: always TCG.
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu max -smp "$CPUS" -m "$MEM" -M pc \
  -nodefaults -no-user-config -display none -monitor none -no-reboot \
  -serial "file:$CTL/console" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
  -kernel "$K/vmlinux" -initrd "$K/initramfs.gz" -append "$APPEND" \
  "${FSDEV[@]}" </dev/null >"$CTL/qemu.log" 2>&1 &
QPID=$!; PIDS+=("$QPID")
# stream the guest's stdout/stderr (files on the control share) while it runs; tail drains them after qemu exits
tail --pid="$QPID" -s 0.1 -c +1 -f "$CTL/stdout" & PIDS+=($!)
tail --pid="$QPID" -s 0.1 -c +1 -f "$CTL/stderr" >&2 & PIDS+=($!)
[ "${PKTPATH_VM_DEBUG:-}" = 1 ] && { tail --pid="$QPID" -s 0.1 -c +1 -f "$CTL/console" >&2 & PIDS+=($!); }
wait "$QPID"; qrc=$?
wait "${PIDS[@]:1}"
PIDS=()

if [ -s "$CTL/err" ]; then die "$(head -n1 "$CTL/err")"; fi
if [ -f "$CTL/rc" ]; then exit "$(cat "$CTL/rc")"; fi
[ -s "$CTL/console" ] && [ "${PKTPATH_VM_DEBUG:-}" != 1 ] && tail -n 20 "$CTL/console" >&2
[ $qrc -eq 124 ] || [ $qrc -eq 137 ] && die "the VM timed out after ${TIMEOUT} s (PKTPATH_VM_TIMEOUT)"
reason=$(grep -v '^\s*$' "$CTL/qemu.log" | head -n1)
die "the guest did not report an exit code (qemu exit $qrc${reason:+: $reason})"
