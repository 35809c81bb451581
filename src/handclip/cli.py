"""The `handclip` command: discovers the sub-command modules in handclip.commands.

Ordinary mistakes (a missing file, a misspelled config key, a bad value) end in one line on stderr saying
what to do, exit status 1 (2 for a bad option); `handclip --debug COMMAND` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings

from handclip import __version__, commands
from handclip.errors import UserError, one_line

# what a user can fix: UserError (configs, checkpoints, datasets, options), files (OSError), values and names
USER_ERRORS = (UserError, OSError, ValueError, LookupError)
DEBUG_HELP = "show the full traceback of an error"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line naming the option and pointing at --help."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """One sub-parser per module of handclip.commands, in alphabetical order."""
    parser = _Parser(prog="handclip", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"handclip {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"handclip.commands.{info.name}")
        name = info.name.replace("_", "-")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (0 success, 1 error, 2 usage error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version and usage errors
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    if not hasattr(args, "_run"):
        parser.print_help()
        return 0
    try:
        with warnings.catch_warnings():
            if not args.debug:
                warnings.showwarning = _one_line_warning(args.command)
            return int(args._run(args) or 0)
    except USER_ERRORS as err:
        if args.debug:
            raise
        print(f"handclip {args.command}: {one_line(err)}", file=sys.stderr)
        return 1


def _one_line_warning(command: str):
    """A warnings.showwarning printing 'handclip COMMAND: warning: MESSAGE' (no file and source line)."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"handclip {command}: warning: {one_line(message)}", file=sys.stderr)

    return show


if __name__ == "__main__":
    sys.exit(main())
