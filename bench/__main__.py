"""Run benchmark modules: `python -m bench` runs all, `python -m bench finance` one.

Each module listed in MODULES is `bench.<name>` and exposes `main() -> None`,
which prints its own figures. Add new benchmark modules to MODULES.
Options after the names (`python -m bench servicing --n 500`) are read by
the modules themselves from sys.argv.
"""

from __future__ import annotations

import importlib
import sys

MODULES: tuple[str, ...] = ("finance", "servicing", "origination", "eod")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # options (from the first "-..." on) are left for the modules, which read sys.argv
    cut = next((i for i, arg in enumerate(args) if arg.startswith("-")), len(args))
    names = args[:cut] or list(MODULES)
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
