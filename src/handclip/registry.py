"""Name -> factory registries whose modules are imported on first use, so `handclip --help` stays fast."""

from __future__ import annotations

import difflib
import importlib
import inspect
import typing
from typing import Callable


class Registry:
    """Factories of one kind ('method', 'dataset'), registered by decorator or found in a known module."""

    def __init__(self, kind: str, modules: dict[str, str]):
        self.kind = kind
        self.modules = modules  # name -> module that registers it
        self.factories: dict[str, Callable] = {}

    def names(self) -> list[str]:
        """Every name known, registered or importable."""
        return sorted(set(self.modules) | set(self.factories))

    def register(self, name: str):
        """Decorator adding a factory under `name`."""

        def wrap(factory):
            self.factories[name] = factory
            return factory

        return wrap

    def factory(self, name: str) -> Callable:
        """The factory registered under `name` (its module imported on first use)."""
        if name not in self.factories and name in self.modules:
            importlib.import_module(self.modules[name])
        if name not in self.factories:
            close = difflib.get_close_matches(str(name), self.names(), n=3)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise KeyError(f"unknown {self.kind} {name!r}; {hint}known: {self.names()}")
        return self.factories[name]

    def build(self, name: str, **kwargs):
        """Build `name` with keyword arguments (a config block)."""
        return self.factory(name)(**kwargs)

    def parameters(self, name: str) -> dict[str, inspect.Parameter] | None:
        """The keyword parameters the factory of `name` takes, None when it takes any. A `**kwargs` factory
        annotated to return a class is seen through to that class's constructor."""
        factory = self.factory(name)
        params = _signature(factory).parameters
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            try:
                returned = typing.get_type_hints(factory).get("return")
            except Exception:  # an annotation that cannot be resolved: nothing to see through
                returned = None
            if not inspect.isclass(returned):
                return None
            params = _signature(returned).parameters
            if any(p.kind is p.VAR_KEYWORD for p in params.values()):
                return None
        return {k: p for k, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _signature(obj) -> inspect.Signature:
    """obj's signature with string annotations evaluated where they can be, else left as text."""
    try:
        return inspect.signature(obj, eval_str=True)
    except Exception:  # a name only imported for type checkers
        return inspect.signature(obj)
