"""The ``yidi catalog`` subcommands: keygen, build, add, list, outdated, upgrade.

Exit status: 0 done, 1 refused (mistakes, a conflict, a failed verification),
2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from runtime.catalog import CatalogError
from runtime.mistakes import report


def _manifest(args: argparse.Namespace) -> Path:
    return Path(args.manifest or os.environ.get("YIDI_MANIFEST") or "scenarios.yaml")


def _fail(exc: CatalogError) -> int:
    print(f"yidi catalog: {exc}", file=sys.stderr)
    return 1


def _keygen(args: argparse.Namespace) -> int:
    from runtime.catalog.verify import keygen

    try:
        public = keygen(Path(args.keyfile))
    except CatalogError as exc:
        return _fail(exc)
    print(f"private key: {args.keyfile}  (keep it out of every repository and shared folder)")
    print(f"public key:  {public}  (also in {args.keyfile}.pub; publish it to the counties)")
    return 0


def _build(args: argparse.Namespace) -> int:
    from runtime.catalog.build import BuildRefused, build

    key = args.key or os.environ.get("YIDI_CATALOG_KEY")
    try:
        done = build(
            Path(args.scenarios), Path(args.out), Path(key) if key else None, title=args.title
        )
    except BuildRefused as exc:
        print(report(exc.mistakes))
        return _fail(exc)
    except CatalogError as exc:
        return _fail(exc)
    for line in done.added:
        print(f"published {line}")
    for line in done.unchanged:
        print(f"unchanged {line}")
    if done.signed:
        print(f"index signed; public key {done.public_key} (in {args.out}/key.pub)")
    else:
        print("warning: the index is NOT signed (pass --key); counties must use --allow-unsigned")
    return 0


def _add(args: argparse.Namespace) -> int:
    from runtime.catalog.install import add
    from runtime.checker import check_paths

    manifest = _manifest(args)
    try:
        done = add(
            manifest,
            args.source,
            args.spec,
            key=args.key,
            name=args.name,
            allow_unsigned=args.allow_unsigned,
        )
    except CatalogError as exc:
        return _fail(exc)
    for line in done.lines:
        print(line)
    result = check_paths([manifest])
    if result.mistakes:
        print(report(result.mistakes))
        print("Installed, but fix these mistakes before serving (yidi check).", file=sys.stderr)
    return 0


def _table(rows: list[dict[str, Any]], keys: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys).rstrip())
    for row in rows:
        print("  ".join(str(row[k]).ljust(widths[k]) for k in keys).rstrip())


def _list(args: argparse.Namespace) -> int:
    from runtime.catalog.install import listing

    try:
        rows = listing(_manifest(args))
    except CatalogError as exc:
        return _fail(exc)
    for row in rows:
        row["checksum"] = row["checksum"][:19] + "…" if row["checksum"] else "-"
    _table(rows, ["id", "source", "version", "checksum", "overlay", "status"])
    return 0


def _outdated(args: argparse.Namespace) -> int:
    from runtime.catalog.install import outdated

    try:
        rows = outdated(_manifest(args))
    except CatalogError as exc:
        return _fail(exc)
    _table(rows, ["id", "catalog", "current", "wanted", "latest", "note"])
    return 0


def _database(args: argparse.Namespace) -> tuple[str | None, Path | None]:
    """The deployment's database, when there is one to inspect (never created here)."""
    from runtime.settings import Settings
    from runtime.storage.db import dialect_of, sqlite_path

    if args.no_data:
        return None, None
    overrides = {k: getattr(args, k) for k in ("data_dir", "database_url") if getattr(args, k)}
    settings = Settings.from_env(**overrides)
    url = settings.database_url
    if dialect_of(url) == "sqlite" and not Path(sqlite_path(url)).is_file():
        return None, None
    return url, settings.data_dir


def _upgrade(args: argparse.Namespace) -> int:
    from runtime.catalog.upgrade import UpgradeRefused, upgrade

    url, data_dir = _database(args)
    try:
        plan = upgrade(
            _manifest(args), args.spec, dry_run=args.dry_run, database_url=url, data_dir=data_dir
        )
    except UpgradeRefused as exc:
        _show(exc.plan)
        return _fail(exc)
    except CatalogError as exc:
        return _fail(exc)
    _show(plan)
    if plan.applied:
        print(f"Upgraded {plan.sid} {plan.old} → {plan.new}; the overlay is kept.")
        print(
            "Review the database plan with `yidi migrate`; apply steps it refuses with `yidi migrate --apply`."
        )
    elif plan.old != plan.new:
        print("Dry run: nothing was changed.")
    return 0


def _show(plan: Any) -> None:
    print(f"{plan.sid}: {plan.old} → {plan.new}")
    if plan.changes:
        print("Changes:")
        for change in plan.changes:
            print(f"  {change}")
    for note in plan.notes:
        print(f"note: {note}")
    if plan.conflicts:
        print("The overlay no longer applies:")
        print(report(plan.conflicts))
    if plan.mistakes:
        print("The deployment would have mistakes:")
        print(report(plan.mistakes))
    if plan.stranded:
        print(f"Records in states that {plan.new} removes (staff must move or close them):")
        for row in plan.stranded:
            title = f" {row['title']}" if row.get("title") else ""
            moved = f" → {row['moved_to']} by the data migration" if row.get("moved_to") else ""
            print(f"  {row['entity']} #{row['id']} [{row['state']}]{title}{moved}")
    if plan.migrations:
        print(f"Data migrations {plan.new} declares for {plan.old} (yidi migrate --apply):")
        for line in plan.migrations:
            print(f"  {line}")
    if plan.schema_plan:
        print("Database plan (yidi migrate):")
        for line in plan.schema_plan.splitlines():
            print(f"  {line}")


def register(sub: Any) -> None:
    """Add ``yidi catalog …`` to the command's subparsers."""
    catalog = sub.add_parser("catalog", help="publish, install and upgrade scenario packages")
    cmds = catalog.add_subparsers(dest="catalog_command", required=True, metavar="SUBCOMMAND")

    keygen = cmds.add_parser("keygen", help="make the province's signing key pair")
    keygen.add_argument("keyfile", help="where to write the private key (its .pub beside it)")
    keygen.set_defaults(run=_keygen)

    build = cmds.add_parser("build", help="publish packages into a catalog folder")
    build.add_argument("scenarios", help="a folder of packages (or one package)")
    build.add_argument("out", help="the catalog folder (index.json, archives)")
    build.add_argument("--key", help="the private signing key ($YIDI_CATALOG_KEY)")
    build.add_argument("--title", help="the catalog's title")
    build.set_defaults(run=_build)

    def with_manifest(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--manifest", help="the deployment manifest ($YIDI_MANIFEST, scenarios.yaml)"
        )

    add = cmds.add_parser("add", help="install a package from a catalog: SOURCE ID@RANGE")
    add.add_argument(
        "source", help="a catalog folder, a file:// or http(s):// URL, or a catalog name"
    )
    add.add_argument("spec", metavar="ID@RANGE", help="e.g. suggestions@^1.0")
    add.add_argument("--key", help="the catalog's public key (hex or a key.pub file), pinned")
    add.add_argument("--name", help="the catalog's name in scenarios.yaml (default province)")
    add.add_argument("--allow-unsigned", action="store_true", help="accept an unsigned catalog")
    with_manifest(add)
    add.set_defaults(run=_add)

    listing = cmds.add_parser("list", help="the deployment's scenarios, versions and overlays")
    with_manifest(listing)
    listing.set_defaults(run=_list)

    outdated = cmds.add_parser("outdated", help="installed packages with newer versions")
    with_manifest(outdated)
    outdated.set_defaults(run=_outdated)

    upgrade = cmds.add_parser("upgrade", help="upgrade an installed package: ID[@RANGE]")
    upgrade.add_argument("spec", metavar="ID[@RANGE]", help="e.g. suggestions or suggestions@^1")
    upgrade.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    upgrade.add_argument("--data-dir", dest="data_dir", help="the data directory ($YIDI_DATA_DIR)")
    upgrade.add_argument("--database-url", dest="database_url", help="default $DATABASE_URL")
    upgrade.add_argument("--no-data", action="store_true", help="do not inspect the database")
    with_manifest(upgrade)
    upgrade.set_defaults(run=_upgrade)
