#!/usr/bin/env bash
# Set up this checkout on a Debian machine: tmux (and the test tools' system
# packages with --test) from apt, and a Python venv in .venv with the
# requirements. Safe to run again: installs only what is missing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$repo/.venv}
requirements=$repo/requirements.txt
packages=(tmux)
if [ "${1:-}" = "--test" ]; then
  requirements=$repo/requirements-test.txt
  # sshd and ssh for the fleet tests (users behind a loopback sshd as boxes; its service is never started),
  # ip for those that give each box its own network namespace.
  packages+=(git shellcheck openssh-server openssh-client iproute2)
fi

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null || ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  packages+=(python3 python3-venv)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "setup: installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -qq
  # No service starts during the install (openssh-server's would listen on port 22): a policy saying
  # so, unless the machine has its own.
  policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -z "$policy" ] || "${sudo[@]}" rm -f "$policy"
fi

# The real antigravity-claude-proxy, for its integration test (skipped without Node.js),
# installed in the background while pip works (npm takes a minute or two).
# --ignore-scripts: better-sqlite3's install script downloads a prebuilt binary or
# Node's headers, out of reach on many machines; the proxy serves without it.
proxy_version=2.0.4
proxy_job=
clis_job=
if [ "${1:-}" = "--test" ] && command -v npm >/dev/null; then
  prefix=$repo/.cache/npm
  if ! grep -qs "\"version\": \"$proxy_version\"" "$prefix/lib/node_modules/antigravity-claude-proxy/package.json"; then
    echo "setup: installing antigravity-claude-proxy@$proxy_version into $prefix (in the background)"
    npm install -g --prefix "$prefix" --no-audit --no-fund --ignore-scripts "antigravity-claude-proxy@$proxy_version" >/dev/null 2>&1 &
    proxy_job=$!
  fi
  # The real Claude Code and Codex for the scripted-model tests (tests/integration/test_scripted_real_clis.py),
  # pinned like the fixture that installs them if this did not (tests/integration/conftest.py: real_clis).
  clis=()
  for cli in @anthropic-ai/claude-code@2.1.197 @openai/codex@0.169.0; do
    grep -qs "\"version\": \"${cli##*@}\"" "$prefix/lib/node_modules/${cli%@*}/package.json" || clis+=("$cli")
  done
  if [ ${#clis[@]} -gt 0 ]; then
    echo "setup: installing ${clis[*]} into $prefix (in the background)"
    # After the proxy's install: two npm installs into one prefix at once can clobber each other.
    ( while [ -n "$proxy_job" ] && kill -0 "$proxy_job" 2>/dev/null; do sleep 1; done
      npm install -g --prefix "$prefix" --no-audit --no-fund "${clis[@]}" >/dev/null 2>&1 ) &
    clis_job=$!
  fi
fi

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
# Reinstall only when the requirements changed since the last run.
stamp=$venv/.$(basename "$requirements").sha256
wanted=$(cat "$repo"/requirements*.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "setup: installing $(basename "$requirements") into $venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$requirements"
  echo "$wanted" > "$stamp"
fi
if [ -n "$proxy_job" ] && ! wait "$proxy_job"; then
  echo "setup: could not install antigravity-claude-proxy; its test will be skipped"
fi
if [ -n "$clis_job" ] && ! wait "$clis_job"; then
  echo "setup: could not install the real Claude Code and Codex; their tests will install them or be skipped"
fi
echo "setup: ready ($("$venv/bin/ansible-playbook" --version | head -1), $(tmux -V))"
