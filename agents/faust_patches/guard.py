"""The patches run only on the faust-streaming they were written against, and only whole.

They replace private members of Faust's classes. On another version, or when a member they
replace or call is gone (renamed upstream), the worker refuses to start with an error that
names the version or the member; nothing is replaced before every member was found.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata

from ..exits import UnusableError
from ._replace import Target

DISTRIBUTION = "faust-streaming"
PINNED_VERSION = "0.15.3"
"""The version pyproject.toml pins; the patches were measured against it."""


class FaustPatchError(UnusableError):
    """The installed Faust is not the one the patches fit; the message says what differs."""


def installed_version() -> str:
    return metadata.version(DISTRIBUTION)


def require_pinned_version() -> None:
    version = installed_version()
    if version != PINNED_VERSION:
        raise FaustPatchError(
            f"{DISTRIBUTION} {version} is installed, but the Faust patches in "
            f"agents/faust_patches fit {PINNED_VERSION} only: install {PINNED_VERSION} "
            "(pyproject.toml) or re-check every patch against the new version"
        )


def require_targets(targets: Iterable[Target]) -> None:
    missing = [target.describe() for target in targets if not _present(target)]
    if missing:
        raise FaustPatchError(
            f"{DISTRIBUTION} {installed_version()} has no {', '.join(missing)}, which the "
            "Faust patches in agents/faust_patches replace or call; nothing was patched"
        )


def _present(target: Target) -> bool:
    try:
        getattr(target.owner, target.name)
    except AttributeError:
        return False
    return True
