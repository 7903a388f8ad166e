# shellcheck shell=bash
# interop/lib/qemu.sh: how the lab starts Debian 12's stock kernel in QEMU (the second backend).
# Sourced by interop/run (on the host, never inside a guest). Same shape as lib/uml.sh:
#
#   qemu_setup TOOLS_DIR  once per run: find the kernel (/boot/vmlinuz-<v> with /lib/modules/<v>),
#                         build the initramfs into TOOLS_DIR, boot a bare guest to choose TCG or
#                         KVM; 0 = it boots, else the cause and the fix are in $QEMU_PROBLEM
#   qemu_boot ID TIMEOUT CONSOLE KERNEL-ARG...
#                         boot one guest (console to CONSOLE) the way qemu_setup chose; its
#                         status is QEMU's (timeout's 124/137 when killed)
#
# The guest: qemu-system-x86_64, 1 CPU, 1 GiB, no devices but a serial console and virtio-9p
# sharing the host's / (mount tag "hostroot"; QEMU_SHARE_DIR names another root for qemu_boot, as
# tests/package/systemd_boot_test.sh does for a Debian root with systemd as PID 1). The kernel is Debian's linux-image-amd64, which
# has no 9p or virtio built in, so the initramfs holds busybox (busybox-static), those modules
# (with their dependencies, resolved from modules.dep) and lib/qemu-rdinit.sh as /init; that
# mounts the 9p root and switch_roots into the second stage given as init= (lib/qemu-init.sh).
# Inside, modprobe uses the host's own /lib/modules/<v> over 9p. QEMU boots the ELF vmlinux
# unpacked from the bzImage (PVH entry point, faster under TCG), or the bzImage if that fails.
#
# Accelerator: TCG (software emulation) unless a test boot under KVM succeeds. /dev/kvm may exist
# and still be unable to run a stock kernel (nested paravirtual KVM), so only a boot decides.
# LAB_QEMU_ACCEL=tcg|kvm forces one (the test boot must still succeed).

# shellcheck disable=SC2034 # the QEMU_* results are read by interop/run
QEMU_BIN=""
QEMU_KERNEL=""        # /boot/vmlinuz-<version>
QEMU_KVER=""          # <version>
QEMU_INITRD=""        # the initramfs qemu_setup built
QEMU_ACCEL=""         # tcg | kvm, as decided by qemu_setup
QEMU_IMAGE=""         # what QEMU boots: the vmlinux extracted from QEMU_KERNEL, or QEMU_KERNEL
QEMU_BOOT_SECS=""     # wall time of the test boot (start of QEMU to its exit)
QEMU_MODE=""          # what qemu_setup decided, for the run's header line
QEMU_PROBLEM=""

_qemu_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The 9p stack: transport (virtio PCI), 9p-over-virtio and the 9p file system.
_qemu_initramfs_modules=(virtio_pci 9pnet_virtio 9p)

# _qemu_find_kernel: the newest /boot/vmlinuz-<v> that has /lib/modules/<v>/modules.dep.
_qemu_find_kernel() {
  local f v found=""
  for f in $(compgen -G '/boot/vmlinuz-*' | sort -rV); do
    v=${f#/boot/vmlinuz-}
    [[ -f /lib/modules/$v/modules.dep ]] || continue
    found=$f
    break
  done
  if [[ -z $found ]]; then
    if compgen -G '/boot/vmlinuz-*' >/dev/null; then
      QEMU_PROBLEM="no /boot/vmlinuz-<version> has its modules in /lib/modules/<version> (reinstall linux-image-amd64: scripts/setup.sh)"
    else
      QEMU_PROBLEM="no kernel image /boot/vmlinuz-* (install linux-image-amd64: scripts/setup.sh)"
    fi
    return 1
  fi
  if [[ ! -r $found ]]; then
    QEMU_PROBLEM="$found is not readable by $(id -un) (run the lab as root, or chmod o+r $found)"
    return 1
  fi
  QEMU_KERNEL=$found
  QEMU_KVER=$v
}

# qemu_module_closure VERSION MODULE...: the .ko files (paths relative to /lib/modules/VERSION)
# that loading MODULE... needs, dependencies first, each once, from modules.dep; built-in modules
# are left out. A module that is neither built in nor in modules.dep prints "MISSING <name>".
qemu_module_closure() {
  local kver=$1
  shift
  local dir=/lib/modules/$kver
  awk -v want="$*" '
    function norm(p,   n) { n = p; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n); gsub(/-/, "_", n); return n }
    function visit(m,   n, d, i) {
      if (m in seen) return
      seen[m] = 1
      if (!(m in path)) { if (!(m in builtin)) print "MISSING " m; return }
      n = split(deps[m], d, " ")
      for (i = 1; i <= n; i++) visit(d[i])
      print path[m]
    }
    FILENAME ~ /modules\.builtin$/ { builtin[norm($1)] = 1; next }
    {
      sub(/:$/, "", $1)
      m = norm($1); path[m] = $1; deps[m] = ""
      for (i = 2; i <= NF; i++) deps[m] = deps[m] " " norm($i)
    }
    END { n = split(want, w, " "); for (i = 1; i <= n; i++) visit(norm(w[i])) }
  ' "$dir/modules.builtin" "$dir/modules.dep"
}

# _qemu_build_initramfs DIR: DIR/initramfs-<version>.cpio with busybox, the 9p modules and /init.
_qemu_build_initramfs() {
  local dir=$1 stage list ko a
  local busybox=/bin/busybox
  # A dynamic busybox (Debian's "busybox" package) would need its libraries in the initramfs.
  if [[ ! -x $busybox ]] || ldd "$busybox" >/dev/null 2>&1; then
    QEMU_PROBLEM="no static busybox at $busybox for the initramfs (install busybox-static: scripts/setup.sh)"
    return 1
  fi
  if ! command -v cpio >/dev/null; then
    QEMU_PROBLEM="cpio not found, needed to pack the initramfs (install cpio: scripts/setup.sh)"
    return 1
  fi
  list=$(qemu_module_closure "$QEMU_KVER" "${_qemu_initramfs_modules[@]}")
  if grep -q '^MISSING' <<<"$list"; then
    QEMU_PROBLEM="kernel $QEMU_KVER lacks $(sed -n 's/^MISSING //p' <<<"$list" | tr '\n' ' ')(needed to mount the 9p root; reinstall linux-image-amd64)"
    return 1
  fi
  stage=$dir/initramfs.d
  rm -rf "$stage"
  mkdir -p "$stage"/{bin,dev,proc,newroot} || return 1
  cp "$busybox" "$stage/bin/busybox"
  for a in sh mount umount insmod switch_root poweroff mkdir cat uname sleep; do
    ln -s busybox "$stage/bin/$a"
  done
  # Compressed modules (.ko.xz and the like, not Debian 12's) go in unpacked: busybox's insmod
  # takes plain .ko files.
  local src dst unpack
  : >"$stage/modules.load"
  while read -r ko; do
    [[ -n $ko ]] || continue
    src=/lib/modules/$QEMU_KVER/$ko
    case $ko in
      *.ko.xz) unpack="xz -dc" ;;
      *.ko.zst) unpack="zstd -dcq" ;;
      *.ko.gz) unpack="gzip -dc" ;;
      *) unpack="cat" ;;
    esac
    ko=${ko%.ko*}.ko
    dst=$stage/lib/modules/$QEMU_KVER/$ko
    mkdir -p "$(dirname "$dst")"
    # shellcheck disable=SC2086 # $unpack is a command and its options
    $unpack <"$src" >"$dst" || {
      QEMU_PROBLEM="cannot copy $src into the initramfs ($unpack failed)"
      return 1
    }
    echo "$ko" >>"$stage/modules.load"
  done <<<"$list"
  cp "$_qemu_dir/lib/qemu-rdinit.sh" "$stage/init" && chmod 755 "$stage/init"
  QEMU_INITRD=$dir/initramfs-$QEMU_KVER.cpio
  if ! (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$QEMU_INITRD" 2>"$dir/cpio.log"; then
    QEMU_PROBLEM="cpio could not pack the initramfs (see $dir/cpio.log)"
    return 1
  fi
  rm -rf "$stage"
}

# _qemu_extract_vmlinux DIR: the uncompressed ELF kernel inside the bzImage, as
# DIR/vmlinux-<version>; prints its path, or nothing. QEMU boots such an ELF through its PVH entry
# point (Debian's kernel has CONFIG_PVH): no BIOS boot loader and no in-guest decompression,
# which under TCG saves about 2.5 s per boot. The payload is found by its compression magic.
_qemu_extract_vmlinux() {
  local out=$1/vmlinux-$QEMU_KVER fmt magic tool off shoff shnum shsize
  local -A magic_of=([xz]='\xfd7zXZ\x00' [zstd]='\x28\xb5\x2f\xfd' [gzip]='\x1f\x8b\x08')
  local -A tool_of=([xz]='xz -dc' [zstd]='zstd -dcq' [gzip]='gzip -dc')
  for fmt in xz zstd gzip; do
    magic=${magic_of[$fmt]}
    read -ra tool <<<"${tool_of[$fmt]}"
    command -v "${tool[0]}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$QEMU_KERNEL" 2>/dev/null | cut -d: -f1 | head -n 4); do
      # The stream is followed by the bzImage's trailer, which the decompressor calls garbage.
      tail -c "+$((off + 1))" "$QEMU_KERNEL" | "${tool[@]}" >"$out" 2>/dev/null
      # A whole ELF: the magic, and the section headers (at the end) inside the file.
      [[ $(head -c 4 "$out" | od -An -c | tr -d ' ') == '177ELF' ]] || continue
      shoff=$(od -An -t u8 -j 40 -N 8 "$out" | tr -d ' ')
      shsize=$(od -An -t u2 -j 58 -N 2 "$out" | tr -d ' ')
      shnum=$(od -An -t u2 -j 60 -N 2 "$out" | tr -d ' ')
      if ((shoff > 0 && shoff + shnum * shsize <= $(stat -c %s "$out"))); then
        echo "$out"
        return 0
      fi
    done
  done
  rm -f "$out"
}

# _qemu_argv ACCEL IMAGE: the QEMU command line (without -append) into the array _qemu_cmd.
_qemu_argv() {
  local accel=$1 image=$2 cpu=max sm=passthrough
  [[ $accel == kvm ]] && cpu=host
  # passthrough stores the guest's owners and modes as they are, which needs root; as a normal
  # user "none" drops the chown/chmod that would fail (the guest's root then writes as you).
  ((EUID == 0)) || sm=none
  _qemu_cmd=("$QEMU_BIN" -nodefaults -no-user-config -machine pc -accel "$accel" -cpu "$cpu"
    -smp 1 -m "${QEMU_MEM:-1024}" -display none -monitor none -serial stdio -no-reboot
    -kernel "$image" -initrd "$QEMU_INITRD"
    -virtfs "local,path=${QEMU_SHARE_DIR:-/},mount_tag=hostroot,security_model=$sm,multidevs=remap")
}

# Kernel arguments of every boot: serial console, quiet, a panic ends QEMU (-no-reboot).
_qemu_kernel_args=(console=ttyS0 quiet panic=-1)

# _qemu_try DIR ACCEL IMAGE SECONDS: a bare boot into lib/qemu-bootcheck.sh, which writes a marker
# file over 9p. On success sets QEMU_ACCEL, QEMU_IMAGE and QEMU_BOOT_SECS. Log:
# DIR/boot-<accel>-<vmlinux|bzimage>.log.
_qemu_try() {
  local dir=$1 accel=$2 image=$3 secs=$4 label=bzimage t0 t1
  [[ $image == "$QEMU_KERNEL" ]] || label=vmlinux
  _qemu_last_log=$dir/boot-$accel-$label.log
  rm -f "$dir/boot-$accel-$label.ok"
  _qemu_argv "$accel" "$image"
  t0=$(date +%s.%N)
  # (in braces: bash's own "Aborted" note about a crashing QEMU goes to the log, not the terminal)
  { timeout -k 5 "$secs" "${_qemu_cmd[@]}" -append "${_qemu_kernel_args[*]} init=$_qemu_dir/lib/qemu-bootcheck.sh BOOTCHECK_MARK=$dir/boot-$accel-$label.ok" \
    </dev/null >"$_qemu_last_log" 2>&1; } 2>>"$_qemu_last_log"
  _qemu_last_rc=$?
  t1=$(date +%s.%N)
  [[ -s $dir/boot-$accel-$label.ok ]] || return 1
  QEMU_ACCEL=$accel
  QEMU_IMAGE=$image
  QEMU_BOOT_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
}

# qemu_boot_error LOG: the reason the initramfs printed (lab-initramfs: ERROR: ...), if any.
qemu_boot_error() { sed -nE 's/.*lab-initramfs: ERROR: (.*)/\1/p' "$1" 2>/dev/null | tail -n 1 | tr -d '\r'; }

qemu_setup() {
  local dir=$1 want=${LAB_QEMU_ACCEL:-auto} why="" how image vmlinux
  local -a images=()
  QEMU_PROBLEM="" QEMU_ACCEL="" QEMU_IMAGE="" QEMU_MODE=""
  mkdir -p "$dir" || { QEMU_PROBLEM="cannot create $dir"; return 1; }
  dir=$(realpath "$dir")  # the guest resolves the marker's path from its own /
  rm -f "$dir"/boot-*
  QEMU_BIN=$(command -v qemu-system-x86_64 || true)
  if [[ -z $QEMU_BIN ]]; then
    QEMU_PROBLEM="qemu-system-x86_64 not found (install qemu-system-x86: scripts/setup.sh)"
    return 1
  fi
  case $want in auto | tcg | kvm) ;; *)
    QEMU_PROBLEM="LAB_QEMU_ACCEL=$want is not tcg, kvm or auto"
    return 1 ;;
  esac
  _qemu_find_kernel || return 1
  _qemu_build_initramfs "$dir" || return 1
  # The extracted ELF first (faster), the bzImage as it is if that does not boot.
  vmlinux=$(_qemu_extract_vmlinux "$dir")
  [[ -n $vmlinux ]] && images+=("$vmlinux")
  images+=("$QEMU_KERNEL")

  # KVM only if a boot under it works; one try (a KVM that hangs costs its timeout).
  if [[ $want != tcg ]]; then
    if [[ ! -e /dev/kvm ]]; then
      why="no /dev/kvm"
    elif [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
      why="/dev/kvm not usable by $(id -un)"
    elif _qemu_try "$dir" kvm "${images[0]}" 20; then
      why=""
    else
      why="a test boot under KVM failed, see $_qemu_last_log"
    fi
    if [[ -z $why ]]; then
      :
    elif [[ $want == kvm ]]; then
      QEMU_PROBLEM="LAB_QEMU_ACCEL=kvm but $why; unset LAB_QEMU_ACCEL to use TCG"
      return 1
    fi
  else
    why="LAB_QEMU_ACCEL=tcg"
  fi
  if [[ -n $why ]]; then
    for image in "${images[@]}"; do
      _qemu_try "$dir" tcg "$image" 90 && break
    done
  fi
  if [[ -z $QEMU_ACCEL ]]; then
    why=$(qemu_boot_error "$_qemu_last_log")
    if [[ -n $why ]]; then
      QEMU_PROBLEM="the QEMU guest does not boot: $why (see $_qemu_last_log)"
    elif grep -qiE 'virtfs|9p' "$_qemu_last_log"; then
      QEMU_PROBLEM="QEMU cannot share / over 9p: $(grep -iE 'virtfs|9p' "$_qemu_last_log" | head -n 1) (see $_qemu_last_log; reinstall qemu-system-x86)"
    elif ((_qemu_last_rc == 124 || _qemu_last_rc == 137)); then
      QEMU_PROBLEM="the QEMU guest (kernel $QEMU_KVER, TCG) did not boot within 90 s (see $_qemu_last_log; reinstall qemu-system-x86 linux-image-amd64 busybox-static: scripts/setup.sh)"
    else
      QEMU_PROBLEM="the QEMU guest (kernel $QEMU_KVER, TCG) stopped (status $_qemu_last_rc) before its test boot wrote $dir/boot-tcg-*.ok (see $_qemu_last_log; reinstall qemu-system-x86 linux-image-amd64 busybox-static: scripts/setup.sh)"
    fi
    return 1
  fi
  how="bzImage"
  [[ $QEMU_IMAGE != "$QEMU_KERNEL" ]] && how="PVH boot of the vmlinux inside it"
  QEMU_MODE="Debian kernel $QEMU_KVER under ${QEMU_ACCEL^^}${why:+ ($why)}, $how, test boot $QEMU_BOOT_SECS s"
  return 0
}

# qemu_boot ID TIMEOUT CONSOLE KERNEL-ARG...
# With UML_GROUP_FILE set (the same variable as uml_boot's, so that interop/run's on_signal
# treats both alike), the process group of the boot (timeout's) is written there while it runs.
# ID only names the guest in the process list (-name).
qemu_boot() {
  local id=$1 secs=$2 console=$3 rc
  shift 3
  _qemu_argv "$QEMU_ACCEL" "$QEMU_IMAGE"
  # timeout puts itself and QEMU into a process group of their own.
  timeout -k 5 "$secs" "${_qemu_cmd[@]}" -name "$id" -append "${_qemu_kernel_args[*]} $*" \
    </dev/null >"$console" 2>&1 &
  [[ -n ${UML_GROUP_FILE:-} ]] && echo $! >"$UML_GROUP_FILE"
  wait $! 2>/dev/null
  rc=$?
  [[ -n ${UML_GROUP_FILE:-} ]] && rm -f "$UML_GROUP_FILE"
  return $rc
}
