#!/bin/bash
# Runs one scenario file inside the UML (started by uml-init.sh). The scenario is plain bash that
# uses the helpers of lab.sh; it passes if it reaches its end, and fails at the first `expect`
# (or helper) that fails. See interop/README.md.
set -o pipefail
# shellcheck source=/dev/null
source "$LAB_ENV"
# shellcheck source=lab.sh
if ! source "$LAB_DIR/lib/lab.sh"; then
  echo "FAIL: harness error: lib/lab.sh did not load" >"$LAB_OUT/result"
  exit 1
fi

trap 'lab_fail "timed out (last step: $LAB_LAST_STEP)"' TERM
# A typo in a scenario (a command that does not exist) fails it instead of being ignored.
trap 'lab_fail "$(<"$LAB_RUN/fatal")"' USR1
command_not_found_handle() {
  echo "scenario error: command not found: $1" >"$LAB_RUN/fatal"
  kill -USR1 $$
  return 127
}
lab_begin
# A scenario that is missing or does not parse must fail, not pass by doing nothing.
[[ -r $LAB_SCRIPT ]] || lab_fail "scenario file $LAB_SCRIPT missing"
err=$(bash -n "$LAB_SCRIPT" 2>&1) || lab_fail "scenario file does not parse: ${err//$'\n'/ }"
# shellcheck source=/dev/null
source "$LAB_SCRIPT"
lab_pass
