"""Run benchmark modules: `python -m bench` runs all, `python -m bench finance` one.

Each module listed in MODULES is `bench.<name>` and exposes `main() -> None`,
which prints its own figures. Add new benchmark modules to MODULES.
"""

from __future__ import annotations

import importlib
import sys

MODULES: tuple[str, ...] = ("finance",)


def main(argv: list[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv) or list(MODULES)
    unknown = [name for name in names if name not in MODULES]
    if unknown:
        sys.stderr.write(
            f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(MODULES)}\n"
        )
        return 2
    for name in names:
        sys.stdout.write(f"== bench.{name} ==\n")
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
