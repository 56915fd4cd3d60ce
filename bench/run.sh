#!/usr/bin/env bash
# Every benchmark, one after the other (they measure; never run them beside
# another heavy job), then one table of every figure and its target. Exits
# non-zero when a benchmark failed or missed a target. Each figure is a ratio
# against a floor measured in the same run, or a count, or a bound the issue
# that asked for it set. Arguments are benchmark names to run only those.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
python=${PYTHON:-$repo/.venv/bin/python}
PATH=$(dirname "$python"):$PATH
export PATH
out=$(mktemp -d "${TMPDIR:-/tmp}/moana-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT

benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(board_cli tmux_layout process_start dispatch_latency dispatch_idle_cpu hook_latency playbooks_team real_team fleet)
broken=()
for bench in "${benches[@]}"; do
  echo "=== $bench"
  "$python" "bench/$bench.py" --json "$out/$bench.json" || [ -s "$out/$bench.json" ] || broken+=("$bench")
done

echo
echo "=== all figures"
"$python" bench/_report.py "$out"/*.json
status=$?
[ ${#broken[@]} -eq 0 ] || { echo "benchmarks that did not finish: ${broken[*]}"; status=1; }
exit $status
