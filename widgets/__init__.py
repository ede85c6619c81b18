"""Field widgets: one module per field type, each registering one ``Widget``.

``load_widgets()`` imports every module of this package (helpers whose names
start with ``_`` define no widget) and returns the registry, keyed by the
field ``type`` authors write in YAML.
"""

from __future__ import annotations

import importlib
import pkgutil

from widgets.base import REGISTRY, DuplicateWidget, Invalid, Widget, register

__all__ = ["REGISTRY", "DuplicateWidget", "Invalid", "Widget", "load_widgets", "register"]


_scanned = False


def load_widgets() -> dict[str, Widget]:
    """Import every widget module once; two modules claiming one name raise ``DuplicateWidget``."""
    global _scanned
    if not _scanned:
        for module in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
            importlib.import_module(f"{__name__}.{module.name}")
        _scanned = True
    return REGISTRY
