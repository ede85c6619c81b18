"""The province catalog: build and publish scenario packages, install, overlay, upgrade.

- ``build``: ``yidi catalog build`` writes ``index.json`` (signed) and one archive per version;
- ``verify``: checksums and Ed25519 signatures, ``yidi catalog keygen``;
- ``archive``: deterministic package archives and their safe extraction;
- ``index``: reading a catalog from a folder or a URL, choosing versions;
- ``lock``: recording an installed version and checksum in ``scenarios.yaml``;
- ``install``: ``yidi catalog add``, ``list`` and ``outdated``;
- ``overlay``: a county's local changes merged onto a package at load time;
- ``diff`` and ``upgrade``: ``yidi catalog upgrade`` with its checks before anything changes.
"""

from __future__ import annotations


class CatalogError(Exception):
    """A catalog operation refused, with a message for the person at the console."""
