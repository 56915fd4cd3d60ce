#!/usr/bin/env bash
# Every check the project has, in one command: changelog lint, ansible-lint
# (production profile), ansible-test sanity, the Molecule scenarios, then the
# unit and integration tests (pytest). Runs every stage, ends with one line per
# stage (passed or FAILED, and its time) and a count, and exits non-zero if any
# failed. Needs scripts/setup.sh --test.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
export PATH=${VENV:-$repo/.venv}/bin:$PATH
scratch=$(mktemp -d "${TMPDIR:-/tmp}/moana-tests.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export SCRATCH=$scratch ANSIBLE_NOCOLOR=1 PY_COLORS=0

failed=()
summary=()
record() {  # name status seconds
  [ "$2" = passed ] || failed+=("$1")
  summary+=("$(printf 'stage %-20s %s in %d s' "$1" "$2" "$3")")
}
# Each tool gets its own ANSIBLE_HOME: Molecule and ansible-lint install the
# collection there, and a stale copy must never shadow the checkout.
stage() {
  local name=$1 began=$SECONDS status=passed
  shift
  echo "=== $name"
  ANSIBLE_HOME=$scratch/ansible-home-$name "$@" || { status=FAILED; echo "=== $name FAILED"; }
  record "$name" $status $((SECONDS - began))
}
# The static checks share no state and time nothing: they run beside the
# Molecule scenarios and the tests, each into its own log, printed whole when it ends.
declare -A started pids
background() {
  local name=$1
  shift
  started[$name]=$SECONDS
  (ANSIBLE_HOME=$scratch/ansible-home-$name "$@" >"$scratch/$name.log" 2>&1) &
  pids[$name]=$!
}
finish() {
  local name=$1 status=passed
  wait "${pids[$name]}" || status=FAILED
  echo "=== $name"
  cat "$scratch/$name.log"
  [ $status = passed ] || echo "=== $name FAILED"
  record "$name" $status $((SECONDS - ${started[$name]}))
}

background ansible-lint ansible-lint --profile production --nocolor
background sanity bash tests/sanity.sh
stage changelog antsibull-changelog lint
for scenario in extensions/molecule/*/molecule.yml; do
  name=$(basename "$(dirname "$scenario")")
  stage "molecule-$name" molecule test -s "$name"
done
# Beside the end of the static checks (ansible-test spends most of its time
# building its venvs), not beside the Molecule scenarios: its timing-sensitive
# tests wait on events with generous bounds, never on a fixed pause. It runs
# them on two workers (pytest.ini).
stage pytest python -m pytest
finish ansible-lint
finish sanity

echo
echo "=== summary ($SECONDS s)"
printf '%s\n' "${summary[@]}"
[ ${#failed[@]} -eq 0 ] || echo "failed stages: ${failed[*]}"
echo "stages: $((${#summary[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
