"""How every benchmark states its figures: one row per figure with its target, a JSON file, an exit code.

A figure is a value (a ratio against a floor measured in the same run, or a
count) and, when it has one, a target such as ``<= 1.5`` or ``>= 0.6``. A
benchmark ends with ``sys.exit(report.finish(args.json))``: it prints its
rows and exits 1 when a target is missed. ``bench/run.sh`` runs them all and
prints every row in one table: ``python bench/_report.py FILE.json ...``.
"""

from __future__ import annotations

import json
import operator
import sys
from pathlib import Path

COMPARE = {"<=": operator.le, ">=": operator.ge, "==": operator.eq}


class Report:
    def __init__(self, bench: str):
        self.bench = bench
        self.rows: list[dict] = []

    def add(self, figure: str, value: float, unit: str = "x", target: str | None = None, detail: str = "") -> bool:
        """Record one figure; ``target`` is "<= N", ">= N" or "== N". Returns whether it is met."""
        met = None
        if target:
            sign, limit = target.split()
            met = bool(COMPARE[sign](value, float(limit)))
        self.rows.append({"bench": self.bench, "figure": figure, "value": value, "unit": unit,
                          "target": target or "", "met": met, "detail": detail})
        return met is not False

    @property
    def missed(self) -> list[dict]:
        return [row for row in self.rows if row["met"] is False]

    def finish(self, json_path: str | None = None) -> int:
        print_table(self.rows)
        if json_path:
            Path(json_path).write_text(json.dumps(self.rows, indent=1))
        return 1 if self.missed else 0


def _value(row: dict) -> str:
    value = row["value"]
    text = "%d" % value if float(value).is_integer() and row["unit"] != "x" else "%.2f" % value
    return "%s %s" % (text, row["unit"]) if row["unit"] else text


def print_table(rows: list[dict], out=sys.stdout) -> None:
    width = max([len(r["figure"]) for r in rows] + [6])
    bench_width = max([len(r["bench"]) for r in rows] + [5])
    out.write("%-*s  %-*s  %12s  %-8s  %s\n" % (bench_width, "bench", width, "figure", "value", "target", "result"))
    for row in rows:
        result = {True: "ok", False: "MISSED", None: "-"}[row["met"]]
        detail = ("  (%s)" % row["detail"]) if row["detail"] else ""
        out.write("%-*s  %-*s  %12s  %-8s  %s%s\n" % (
            bench_width, row["bench"], width, row["figure"], _value(row), row["target"], result, detail))


def main(paths: list[str]) -> int:
    rows = [row for path in paths if Path(path).exists() for row in json.loads(Path(path).read_text())]
    print_table(rows)
    missed = [row for row in rows if row["met"] is False]
    print("targets: %d met, %d missed" % (sum(1 for row in rows if row["met"]), len(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
