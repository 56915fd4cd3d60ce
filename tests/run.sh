#!/usr/bin/env bash
# Every check the project has, in one command: changelog lint, ansible-lint
# (production profile), ansible-test sanity, the Molecule scenarios, then the
# unit and integration tests (pytest, last, so its summary closes the output).
# Runs every stage and exits non-zero if any failed. Needs scripts/setup.sh --test.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
export PATH=${VENV:-$repo/.venv}/bin:$PATH
scratch=$(mktemp -d "${TMPDIR:-/tmp}/moana-tests.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export SCRATCH=$scratch ANSIBLE_NOCOLOR=1 PY_COLORS=0

failed=()
stage() {
  local name=$1
  shift
  echo "=== $name"
  # Each tool gets its own ANSIBLE_HOME: Molecule and ansible-lint install the
  # collection there, and a stale copy must never shadow the checkout.
  if ! ANSIBLE_HOME=$scratch/ansible-home-$name "$@"; then
    failed+=("$name")
    echo "=== $name FAILED"
  fi
}

stage changelog antsibull-changelog lint
stage ansible-lint ansible-lint --profile production --nocolor
stage sanity bash tests/sanity.sh
for scenario in extensions/molecule/*/molecule.yml; do
  name=$(basename "$(dirname "$scenario")")
  stage "molecule-$name" molecule test -s "$name"
done
stage pytest python -m pytest

if [ ${#failed[@]} -gt 0 ]; then
  echo "failed stages: ${failed[*]}"
  exit 1
fi
