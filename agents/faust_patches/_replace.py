"""A replaced attribute is always wrapped around Faust's own, read before it is replaced.

The first read of each attribute is kept, so applying the patches again (a second app in the
same process, with other settings) wraps the same original instead of a previous wrapper,
and `restore` puts it back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """An attribute of a Faust class (or module) that a patch replaces or calls."""

    owner: Any
    name: str

    def describe(self) -> str:
        module = getattr(self.owner, "__module__", None)
        qualname = getattr(self.owner, "__qualname__", None)
        if qualname is None:  # a module
            return f"{self.owner.__name__}.{self.name}"
        return f"{module}.{qualname}.{self.name}"


_originals: dict[tuple[Any, str], Any] = {}


def original(owner: Any, name: str) -> Any:
    """Faust's own value of `owner.name`, as it was before any patch replaced it."""
    key = (owner, name)
    if key not in _originals:
        _originals[key] = getattr(owner, name)
    return _originals[key]


def replace(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    """Set `owner.name` to `make(original)`."""
    setattr(owner, name, make(original(owner, name)))


def restore(owner: Any, name: str) -> None:
    """Put Faust's own value back, if a patch replaced it."""
    key = (owner, name)
    if key in _originals:
        setattr(owner, name, _originals.pop(key))
