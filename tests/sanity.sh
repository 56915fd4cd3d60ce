#!/usr/bin/env bash
# ansible-test sanity on a staged copy of the collection.
# ansible-test needs a path ending in ansible_collections/moana/orchestration;
# the stage holds the files git would commit (tracked and new, not ignored).
# Its state (venvs, caches) lives under $SCRATCH, not in the user's home.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=${SCRATCH:-$repo/.cache}
stage=$scratch/sanity/ansible_collections/moana/orchestration
python=${PYTHON:-$(command -v python3)}

rm -rf "$stage"
mkdir -p "$stage"
(cd "$repo" && git ls-files -co --exclude-standard -z | grep -zv '^\.collections/' | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$stage"

# ansible-test bootstraps pip in its venvs with a script it downloads from its
# own file host, which is out of reach here: put the stand-in in its cache.
export HOME=$scratch/home
pip_version=$("$python" - <<'PY'
import pathlib, re, ansible_test
source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", source.read_text()).group(1))
PY
)
mkdir -p "$HOME/.ansible/test/cache"
cp "$repo/tests/tools/get_pip.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

cd "$stage"
ansible-test sanity --color no --requirements --python "$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" "$@"
