"""``make bench``: list the benchmarks and how to run each (they take minutes, so none runs
unasked). Results and the commands that produced them are in docs/benchmarks.md."""

from __future__ import annotations

import pkgutil
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    print("Benchmarks (figures only, never pass/fail; results in docs/benchmarks.md):")
    for module in sorted(m.name for m in pkgutil.iter_modules([str(here)])):
        if module.startswith("_"):
            continue
        doc = (here / f"{module}.py").read_text(encoding="utf-8").split('"""')[1].strip()
        print(f"  .venv/bin/python -m bench.{module:<22} {doc.splitlines()[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
