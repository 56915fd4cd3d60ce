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
stage() {
  local name=$1 began=$SECONDS status=passed
  shift
  echo "=== $name"
  # Each tool gets its own ANSIBLE_HOME: Molecule and ansible-lint install the
  # collection there, and a stale copy must never shadow the checkout.
  if ! ANSIBLE_HOME=$scratch/ansible-home-$name "$@"; then
    failed+=("$name")
    status=FAILED
    echo "=== $name FAILED"
  fi
  summary+=("$(printf 'stage %-16s %s in %d s' "$name" "$status" $((SECONDS - began)))")
}

stage changelog antsibull-changelog lint
stage ansible-lint ansible-lint --profile production --nocolor
stage sanity bash tests/sanity.sh
for scenario in extensions/molecule/*/molecule.yml; do
  name=$(basename "$(dirname "$scenario")")
  stage "molecule-$name" molecule test -s "$name"
done
stage pytest python -m pytest

echo
echo "=== summary ($SECONDS s)"
printf '%s\n' "${summary[@]}"
[ ${#failed[@]} -eq 0 ] || echo "failed stages: ${failed[*]}"
echo "stages: $((${#summary[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
