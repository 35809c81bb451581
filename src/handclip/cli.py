"""The `handclip` command: discovers the sub-command modules in handclip.commands."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from handclip import __version__, commands


def build_parser() -> argparse.ArgumentParser:
    """One sub-parser per module of handclip.commands, in alphabetical order."""
    parser = argparse.ArgumentParser(prog="handclip", description=__doc__)
    parser.add_argument("--version", action="version", version=f"handclip {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"handclip.commands.{info.name}")
        name = info.name.replace("_", "-")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "_run"):
        parser.print_help()
        return 0
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
