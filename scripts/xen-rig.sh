#!/usr/bin/env bash
# Builds the Xen test rig into a cache outside the repository (default ~/.cache/duster-xen):
#   - the Xen 4.17 tools, Debian's kernel and busybox, from Debian's packages (apt-get download);
#   - the hypervisor rebuilt from Debian's source package with CONFIG_EXPERT=y CONFIG_GDBSX=y
#     (Debian's own has no gdbsx support) and CONFIG_VERBOSE_DEBUG=y (without it Xen refuses a
#     domU's HYPERVISOR_console_io writes, the reference unikernel's console), cached;
#   - the dom0 initramfs (busybox, xl, xenstored, xen-init-dom0, gdbsx, the reference unikernel).
# Idempotent: every step leaves a stamp and is skipped when done. Prints the paths it made.
# The apt sources are the machine's own, with deb-src added, in a private apt directory: the
# system's apt configuration is not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
C=${DUSTER_XEN_CACHE:-$HOME/.cache/duster-xen}
mkdir -p "$C"
log() { printf 'xen-rig: %s\n' "$*" >&2; }
t0=$SECONDS

# Host tools the rig needs, from Debian when missing (the hypervisor build needs bison/flex for kconfig).
need=()
for pair in qemu-system-x86_64:qemu-system-x86 gcc:gcc make:make dpkg-source:dpkg-dev bison:bison flex:flex python3:python3 gzip:gzip; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  log "installing ${need[*]} with apt-get"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- private apt: the machine's sources with deb-src -------------------------------------------
A=$C/apt
APT_OPTS=(-o "Dir::Etc::SourceList=$A/sources.list" -o "Dir::Etc::SourceParts=$A/sources.list.d"
  -o "Dir::State=$A/state" -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=root")
if [ ! -f "$A/updated.stamp" ]; then
  rm -rf "$A"
  mkdir -p "$A/sources.list.d" "$A/state" "$A/lists/partial" "$A/cache/archives/partial"
  : >"$A/sources.list"
  # One-line sources: every `deb` line again as `deb-src`.
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb /p; s/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$A/sources.list"
  done
  # deb822 sources: `Types: deb` becomes `Types: deb deb-src`.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    sed 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb deb-src/' "$f" >"$A/sources.list.d/$(basename "$f")"
  done
  log "apt-get update (private lists)"
  apt-get "${APT_OPTS[@]}" update -qq
  touch "$A/updated.stamp"
fi
aptc() { apt-cache "${APT_OPTS[@]}" "$@"; }

# --- binary packages -------------------------------------------------------------------------
S=$C/stage
if [ ! -f "$S.stamp" ]; then
  kernel_pkg=$(aptc depends linux-image-amd64 | sed -n 's/^  Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
  [ -n "$kernel_pkg" ] || { log "cannot tell which kernel linux-image-amd64 points to"; exit 1; }
  pkgs=(xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils libxenmisc4.17 libxenstore4
    libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenhypfs1
    libxentoolcore1 libxentoollog1 libyajl2 busybox-static "$kernel_pkg")
  rm -rf "$C/debs" "$S"
  mkdir -p "$C/debs" "$S"
  log "apt-get download ${#pkgs[@]} packages"
  (cd "$C/debs" && apt-get "${APT_OPTS[@]}" download -qq "${pkgs[@]}")
  for d in "$C"/debs/*.deb; do dpkg-deb -x "$d" "$S"; done
  touch "$S.stamp"
fi
XEN_CONFIG=$(ls "$S"/boot/xen-4.17-amd64.config)
DOM0_KERNEL=$(ls "$S"/boot/vmlinuz-*-amd64 | head -1)
KVER=${DOM0_KERNEL##*/vmlinuz-}

# --- the hypervisor with gdbsx ---------------------------------------------------------------
XEN=$C/xen-gdbsx.elf
if [ ! -f "$XEN" ]; then
  B=$C/xen-build
  rm -rf "$B"
  mkdir -p "$B"
  tb=$SECONDS
  # The newest xen source the lists name that can be fetched (a security suite may list a
  # version its mirror does not hold).
  ok=
  for v in $(aptc showsrc xen | sed -n 's/^Version: //p' | sort -rV | uniq); do
    if (cd "$B" && apt-get "${APT_OPTS[@]}" source -qq --download-only "xen=$v" >/dev/null 2>&1); then ok=$v; break; fi
    rm -f "$B"/*
  done
  [ -n "$ok" ] || { log "no xen source package could be downloaded"; exit 1; }
  log "xen source $ok downloaded; unpacking"
  (cd "$B" && dpkg-source -q -x ./xen_*.dsc src >/dev/null)
  cp "$XEN_CONFIG" "$B/src/xen/.config"
  cat >>"$B/src/xen/.config" <<'EOF'
CONFIG_EXPERT=y
CONFIG_GDBSX=y
CONFIG_VERBOSE_DEBUG=y
# CONFIG_DEBUG_INFO is not set
EOF
  log "building the hypervisor (make -j$(nproc))"
  make -s -C "$B/src/xen" olddefconfig >/dev/null
  make -s -C "$B/src/xen" -j"$(nproc)" >"$B/make.log" 2>&1 || { tail -30 "$B/make.log" >&2; exit 1; }
  for o in GDBSX VERBOSE_DEBUG; do
    grep -q "^CONFIG_$o=y" "$B/src/xen/.config" || { log "CONFIG_$o did not stick"; exit 1; }
  done
  cp "$B/src/xen/xen" "$XEN.tmp"
  mv "$XEN.tmp" "$XEN"
  echo "$ok" >"$C/xen-gdbsx.version"
  log "hypervisor built in $((SECONDS - tb)) s"
  rm -rf "$B"
fi

# --- dom0 initramfs ---------------------------------------------------------------------------
# Rebuilt when its inputs change: the rig's dom0 files and the reference unikernel it boots.
GUEST=$REPO/fixtures/unikernel/build/gcc-O2/kernel.elf
[ -f "$GUEST" ] || make -s -C "$REPO/fixtures/unikernel"
RIG=$REPO/test/xen/rig
key=$(cat "$RIG"/* "$GUEST" "$0" | sha256sum | cut -c1-16)
INITRD=$C/initrd-$key.cpio.gz
if [ ! -f "$INITRD" ]; then
  ti=$SECONDS
  R=$C/initrd-root
  rm -rf "$R" "$C"/initrd-*.cpio.gz
  mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,usr/lib/xen/bin,lib/modules,lib64,lib/x86_64-linux-gnu,proc,sys,dev,run,root,duster,etc,var}
  ln -s /run "$R/var/run"
  mkdir -p "$R/etc/xen" && : >"$R/etc/xen/xl.conf"
  cp "$S/bin/busybox" "$R/bin/busybox"
  for a in $("$S/bin/busybox" --list-full); do
    [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"
  done
  bins=("$S"/usr/lib/xen-4.17/bin/{xl,xenstored,xen-init-dom0,xenconsoled} "$S/usr/sbin/gdbsx")
  cp "${bins[@]:0:4}" "$R/usr/lib/xen/bin/"
  cp "$S/usr/sbin/gdbsx" "$R/usr/sbin/gdbsx"
  gcc -O2 -shared -fPIC -o "$R/duster/skiphole.so" "$RIG/skiphole.c" -ldl
  # The libraries they load, from the packages first, then the host's (libc and friends); glibc's
  # pthread_cancel dlopen()s libgcc_s, which ldd cannot see.
  libs=$( (for b in "${bins[@]}" "$R/duster/skiphole.so"; do LD_LIBRARY_PATH=$S/usr/lib/x86_64-linux-gnu ldd "$b"; done) |
    sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' | sort -u)
  for l in $libs $(gcc -print-file-name=libgcc_s.so.1); do cp -L "$l" "$R/lib/x86_64-linux-gnu/"; done
  cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
  for m in xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc e1000; do
    f=$(find "$S/lib/modules/$KVER" -name "$m.ko*" | head -1)
    [ -n "$f" ] || { log "module $m not in $KVER"; exit 1; }
    case $f in
    *.xz) xz -dc "$f" >"$R/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" >"$R/lib/modules/$m.ko" ;;
    *) cp "$f" "$R/lib/modules/$m.ko" ;;
    esac
  done
  install -m 755 "$RIG/init.sh" "$R/init"
  install -m 755 "$RIG/ctl.sh" "$R/duster/ctl.sh"
  cp "$RIG"/*.cfg "$R/duster/"
  cp "$GUEST" "$R/duster/kernel.elf"
  # The host may have no cpio: busybox's writes the newc format the kernel reads.
  (cd "$R" && find . | "$S/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1 >"$INITRD.tmp")
  mv "$INITRD.tmp" "$INITRD"
  rm -rf "$R"
  log "dom0 initramfs built in $((SECONDS - ti)) s ($(du -k "$INITRD" | cut -f1) KiB)"
fi

printf 'XEN=%s\nDOM0_KERNEL=%s\nINITRD=%s\nGUEST=%s\n' "$XEN" "$DOM0_KERNEL" "$INITRD" "$GUEST"
log "ready in $((SECONDS - t0)) s"
