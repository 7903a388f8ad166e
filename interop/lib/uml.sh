# interop/lib/uml.sh: how the labs start Debian's user-mode-Linux kernel on this host.
# Sourced by interop/run and tests/kernel_lab/run.sh (on the host, never inside a guest).
#
#   uml_setup TOOLS_DIR   decide once per run how linux.uml starts here; 0 = it boots, else the
#                         cause and the fix are in $UML_PROBLEM
#   uml_boot UMID TIMEOUT CONSOLE KERNEL-ARG...
#                         boot one UML (console to CONSOLE) the way uml_setup chose; its status
#                         is linux.uml's (timeout's 124/137 when killed)
#
# Why a setup step: on hosts whose XSAVE area is larger than the buffer UML hands to
# PTRACE_SETREGSET(NT_X86_XSTATE) (seen: Intel Xeon with AVX-512 and AMX), the host kernel
# refuses the SET with EFAULT and UML panics at boot ("ptrace set fp regs failed, errno = 14").
# interop/uml-xstate/ holds the project's fix, a preloaded library that keeps a whole-size shadow
# of each register buffer (see interop/uml-xstate/xstate_shadow.h). uml_setup boots a bare UML
# first; only if that fails the way above does it boot again with the library, and uses it for
# the run if that works. Elsewhere nothing is preloaded.

UML_BIN=""
UML_PRELOAD=""       # the shim, when this host needs it
UML_MODE=""          # what uml_setup decided, for the run's header line
UML_PROBLEM=""
_uml_tools_dir=""

_uml_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# uml_build_tools DIR: compiles the XSAVE shim and the guest's vector-register check into DIR.
uml_build_tools() {
  local dir=$1 src="$_uml_dir/uml-xstate" log
  mkdir -p "$dir" || return 1
  log="$dir/build.log"
  if ! cc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$dir/uml-xstate.so" \
      "$src/xstate_shadow.c" "$src/preload.c" -ldl >"$log" 2>&1; then
    UML_PROBLEM="cannot build the XSAVE shim (cc failed, see $log; install build-essential)"
    return 1
  fi
  if ! cc -std=c11 -O2 -Wall -Wextra -Werror -pthread -o "$dir/vector-regs-check" \
      "$_uml_dir/guest/vector_regs_check.c" >>"$log" 2>&1; then
    UML_PROBLEM="cannot build the guest's vector-register check (cc failed, see $log)"
    return 1
  fi
}

# _uml_try DIR LABEL [VAR=VALUE...]: boots a bare UML whose init only writes a marker file.
_uml_try() {
  local dir=$1 label=$2 umid
  shift 2
  umid="bootcheck-$label-$$"
  rm -f "$dir/boot-$label.ok"
  env "$@" timeout -k 5 60 "$UML_BIN" quiet mem=128M "umid=$umid" rootfstype=hostfs rw \
    "init=$_uml_dir/lib/uml-bootcheck.sh" "BOOTCHECK_MARK=$dir/boot-$label.ok" \
    con=null con0=null,fd:1 </dev/null >"$dir/boot-$label.log" 2>&1
  rm -rf "${HOME:-/root}/.uml/$umid"
  [[ -f $dir/boot-$label.ok ]]
}

uml_setup() {
  local dir=$1
  _uml_tools_dir=$dir
  UML_BIN=$(command -v linux.uml || true)
  if [[ -z $UML_BIN ]]; then
    UML_PROBLEM="linux.uml not found (install Debian's user-mode-linux: scripts/setup.sh)"
    return 1
  fi
  if ! compgen -G "/usr/lib/uml/modules/*/modules.dep" >/dev/null; then
    UML_PROBLEM="no UML kernel modules under /usr/lib/uml/modules (reinstall user-mode-linux)"
    return 1
  fi
  uml_build_tools "$dir" || return 1
  if _uml_try "$dir" plain; then
    UML_MODE="plain (this host's XSAVE area fits UML's buffer)"
    return 0
  fi
  if ! grep -q 'ptrace set fp regs failed' "$dir/boot-plain.log"; then
    UML_PROBLEM="the UML kernel does not boot on this host, and not because of the XSAVE size (see $dir/boot-plain.log)"
    return 1
  fi
  if _uml_try "$dir" shim "LD_PRELOAD=$dir/uml-xstate.so"; then
    UML_PRELOAD="$dir/uml-xstate.so"
    UML_MODE="with the XSAVE shim (UML's PTRACE_SETREGSET buffer is smaller than this host's XSAVE area)"
    return 0
  fi
  UML_PROBLEM="the UML kernel does not boot: PTRACE_SETREGSET(NT_X86_XSTATE) is refused (XSAVE area larger than UML's buffer) and the shim did not help (see $dir/boot-plain.log, $dir/boot-shim.log)"
  return 1
}

# uml_boot UMID TIMEOUT CONSOLE KERNEL-ARG...
# With UML_GROUP_FILE set, the process group of the boot (timeout's) is written there while it
# runs, so that an interrupted caller can stop the whole UML (interop/run's on_signal).
# UML_XSTATE_TEST (optional, exported by the caller) passes a test mode to the shim; see
# interop/uml-xstate/preload.c. It forces the shim even where the host does not need it.
uml_boot() {
  local umid=$1 secs=$2 console=$3 rc
  shift 3
  # With the shim, its counters (which path each ptrace call took) land in CONSOLE.xstate.
  local -a envs=()
  rm -f "$console.xstate"
  if [[ -n ${UML_XSTATE_TEST:-} ]]; then
    envs=("LD_PRELOAD=$_uml_tools_dir/uml-xstate.so" "MINIVPN_XSTATE_TEST=$UML_XSTATE_TEST")
  elif [[ -n $UML_PRELOAD ]]; then
    envs=("LD_PRELOAD=$UML_PRELOAD")
  fi
  ((${#envs[@]})) && envs+=("MINIVPN_XSTATE_STATS=$console.xstate")
  # timeout puts itself and the UML into a process group of their own.
  env "${envs[@]}" timeout -k 5 "$secs" "$UML_BIN" quiet "umid=$umid" rootfstype=hostfs rw "$@" \
    con=null con0=null,fd:1 </dev/null >"$console" 2>&1 &
  [[ -n ${UML_GROUP_FILE:-} ]] && echo $! >"$UML_GROUP_FILE"
  wait $!
  rc=$?
  [[ -n ${UML_GROUP_FILE:-} ]] && rm -f "$UML_GROUP_FILE"
  rm -rf "${HOME:-/root}/.uml/$umid"
  return $rc
}
