"""Yidi runtime: loads, checks and runs scenario packages."""

from __future__ import annotations

__version__ = "0.1.0"
PLATFORM_VERSION = __version__
