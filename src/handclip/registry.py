"""Name -> factory registries whose modules are imported on first use, so `handclip --help` stays fast."""

from __future__ import annotations

import importlib
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

    def build(self, name: str, **kwargs):
        """Build `name` with keyword arguments (a config block)."""
        if name not in self.factories and name in self.modules:
            importlib.import_module(self.modules[name])
        if name not in self.factories:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {self.names()}")
        return self.factories[name](**kwargs)
