"""The ``yidi`` command.

    yidi check [PATH…] [--format text|json]   check packages and manifests
    yidi schema scenario|manifest             print a JSON Schema
    yidi new ID [--dir scenarios]             scaffold a starter package
    yidi catalog keygen|build|add|list|outdated|upgrade   the province catalog

Exit status: 0 when clean, 1 when mistakes were found, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from runtime import __version__
from runtime.checker import UsageError, check_paths
from runtime.mistakes import report
from runtime.schema import SCHEMA_DIR

if TYPE_CHECKING:
    from runtime.deployment import Deployment
    from runtime.settings import Settings


def _check(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [Path("scenarios.yaml")]
    try:
        result = check_paths(paths)
    except UsageError as exc:
        print(f"yidi check: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        payload = {
            "ok": result.ok,
            "packages": sorted(result.packages),
            "mistakes": [m.as_dict() for m in result.mistakes],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    elif result.mistakes:
        print(report(result.mistakes))
        count = len(result.mistakes)
        print(f"{count} mistake{'s' if count != 1 else ''} found.", file=sys.stderr)
    else:
        names = ", ".join(sorted(result.packages)) or "no packages"
        print(
            f"ok: {len(result.packages)} scenario package(s) ({names}), "
            f"{len(result.manifests)} manifest(s)"
        )
    return 0 if result.ok else 1


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write((SCHEMA_DIR / f"{args.kind}.schema.json").read_text("utf-8"))
    return 0


def _new(args: argparse.Namespace) -> int:
    from runtime.scaffold import ScaffoldError, scaffold

    try:
        folder = scaffold(args.id, Path(args.dir))
    except ScaffoldError as exc:
        print(f"yidi new: {exc}", file=sys.stderr)
        return 2
    print(f"created {folder}/ — edit scenario.yaml, then run: yidi check {folder}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from runtime.mistakes import AuthoringError
    from runtime.settings import Settings
    from runtime.web.app import create_app

    settings = Settings.from_env(demo=args.demo)
    try:
        app = create_app(settings)
    except AuthoringError as exc:
        print(exc, file=sys.stderr)
        print("yidi serve: the deployment has mistakes; fix them and start again.", file=sys.stderr)
        return 1
    refused = _schema_refused(settings, app.state.deployment)
    if refused:
        print(refused, file=sys.stderr)
        return 1
    print(
        f"serving {settings.manifest.name} on http://{args.host}:{args.port} "
        f"(database: {settings.database_url.split('@')[-1]})"
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", workers=1)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    """Show the plan of the deployment's database (schema steps and the packages' data
    migrations); apply it with ``--apply``."""
    import asyncio

    from runtime.deployment import load_deployment
    from runtime.mistakes import AuthoringError
    from runtime.settings import Settings
    from runtime.storage import Plan, open_store

    overrides = {k: getattr(args, k) for k in ("manifest", "data_dir", "database_url")}
    settings = Settings.from_env(**{k: v for k, v in overrides.items() if v})
    try:
        deployment = load_deployment(settings.manifest)
    except AuthoringError as exc:
        print(exc, file=sys.stderr)
        return 1

    async def run() -> tuple[Plan, list[str]]:
        url, data_dir = settings.database_url, settings.data_dir
        async with open_store(deployment, url, data_dir, start=False) as store:
            return await store.migrate(apply=args.apply)

    plan, done = asyncio.run(run())
    if not args.apply:
        print(plan)
        if plan.changes:
            print("Nothing was changed. Apply these steps with: yidi migrate --apply")
        return 0
    for line in done:
        print(line)
    print(f"Applied {len(done)} step(s)." if done else "The database schema is up to date.")
    return 0


def _schema_refused(settings: Settings, deployment: Deployment) -> str | None:
    """Open the store once before serving: an incompatible schema change is shown as a plan."""
    import asyncio

    from runtime.storage import open_store
    from runtime.storage.sync import SchemaRefused

    async def run() -> None:
        async with open_store(
            deployment,
            settings.database_url,
            settings.data_dir,
            models=["runtime.web.sessions"],
        ):
            pass

    try:
        asyncio.run(run())
    except SchemaRefused as exc:
        return str(exc)
    return None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="yidi", description="Yidi scenario platform")
    p.add_argument("--version", action="version", version=f"yidi {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="check scenario packages and manifests")
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="package folders, folders of packages, or scenarios.yaml (default)",
    )
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(run=_check)

    schema = sub.add_parser(
        "schema", help="print the JSON Schema of scenario.yaml or scenarios.yaml"
    )
    schema.add_argument("kind", choices=("scenario", "manifest"))
    schema.set_defaults(run=_schema)

    new = sub.add_parser("new", help="scaffold a starter scenario package")
    new.add_argument("id", help="the package id, lower snake_case")
    new.add_argument("--dir", default="scenarios", help="where to create it (default scenarios/)")
    new.set_defaults(run=_new)

    serve = sub.add_parser("serve", help="serve the deployment in scenarios.yaml ($YIDI_MANIFEST)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="create the demo users and sample records"
    )
    serve.set_defaults(run=_serve)

    migrate = sub.add_parser(
        "migrate",
        help="show the database plan (schema and data migrations); --apply applies it",
    )
    migrate.add_argument("--apply", action="store_true", help="apply every step of the plan")
    migrate.add_argument("--manifest", help="the deployment manifest (default $YIDI_MANIFEST)")
    migrate.add_argument("--data-dir", dest="data_dir", help="the data directory ($YIDI_DATA_DIR)")
    migrate.add_argument("--database-url", dest="database_url", help="default $DATABASE_URL")
    migrate.set_defaults(run=_migrate)

    from runtime.catalog.commands import register

    register(sub)
    from runtime.scoring.commands import register as register_score

    register_score(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
