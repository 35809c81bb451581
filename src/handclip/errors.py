"""Errors a user can fix, reported by the `handclip` command in one line (the traceback only with --debug).

ConfigError, CheckpointError and the dataset errors derive from UserError, so `handclip.cli` can tell
an ordinary mistake (a wrong path, a misspelled key, a missing optional package) from a bug.
"""

from __future__ import annotations

import importlib


class UserError(Exception):
    """A mistake in a command line, a config or an input file; the message names it and what to do."""


class MissingExtraError(UserError, ImportError):
    """A feature needs an optional package of one of handclip's extras that is not installed."""


def require_extra(extra: str, feature: str, *modules: str) -> None:
    """Import `modules` (e.g. 'onnxruntime') or raise MissingExtraError naming the pip command of `extra`."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise MissingExtraError(
                f"{feature} needs the optional package {module.split('.')[0]!r} ({err}); "
                f"install it with: pip install 'handclip[{extra}]'"
            ) from err


def one_line(err: BaseException) -> str:
    """The error's message on one line: KeyError's quotes dropped, line breaks joined (': ' after a colon)."""
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    lines = [line.strip() for line in text.splitlines() if line.strip()] or [type(err).__name__]
    out = lines[0]
    for line in lines[1:]:
        out += (" " if out.endswith(":") else "; ") + line
    return out
