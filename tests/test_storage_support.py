"""Shared pieces of the storage tests (no tests here): database URLs, packages, runs.

Each test module declares its ``db_url`` fixture over ``DATABASES`` with
``database_url``: a SQLite file in ``tmp_path``, and a fresh PostgreSQL
database (``pg_dsn``, skipped without a server). ``write_package``
writes a one-entity deployment with the given fields, so schema tests can
change a field and "restart".
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from runtime.deployment import Deployment, load_deployment
from runtime.storage import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

MANIFEST = {
    "deployment": {"id": "t", "title": "测试"},
    "roles": {"staff": {"label": "工作人员"}, "deputy": {"label": "代表"}},
    "org": {
        "zj": {
            "label": "省",
            "kind": "province",
            "children": {
                "wz": {
                    "label": "市",
                    "kind": "city",
                    "children": {
                        "lc": {"label": "区", "kind": "county"},
                        "ra": {"label": "瑞安", "kind": "county"},
                    },
                },
            },
        }
    },
    "scenarios": {"gen": {"path": "scenarios/gen"}},
}

#: every field type, for round trips
ALL_FIELDS: dict[str, Any] = {
    "title": {"type": "text", "label": "标题"},
    "body": {"type": "longtext", "label": "内容"},
    "count": {"type": "number", "label": "数量", "decimals": 0},
    "ratio": {"type": "number", "label": "比例"},
    "amount": {"type": "money", "label": "金额"},
    "stars": {"type": "rating", "label": "评分"},
    "day": {"type": "date", "label": "日期"},
    "moment": {"type": "datetime", "label": "时间"},
    "flag": {"type": "bool", "label": "是否"},
    "kind": {"type": "choice", "label": "类别", "options": ["甲", "乙", "丙"]},
    "tags": {"type": "multichoice", "label": "标签", "options": ["a", "b", "c"]},
    "phone": {"type": "phone", "label": "电话"},
    "idno": {"type": "idcard", "label": "身份证"},
    "person": {"type": "user", "label": "人"},
    "people": {"type": "user", "label": "人们", "multiple": True},
    "unit": {"type": "org", "label": "单位"},
    "units": {"type": "org", "label": "单位们", "multiple": True},
    "other": {"type": "ref", "label": "关联", "entity": "item"},
    "files": {"type": "file", "label": "附件", "multiple": True},
    "place": {"type": "location", "label": "位置"},
    "lines": {
        "type": "children",
        "label": "明细",
        "fields": {
            "name": {"type": "text", "label": "名称"},
            "qty": {"type": "number", "label": "数量", "decimals": 0},
            "price": {"type": "money", "label": "单价"},
        },
    },
    "total": {"type": "money", "label": "合计", "compute": "amount * 2"},
}


def write_package(
    folder: Path,
    fields: dict[str, Any],
    *,
    views: dict[str, Any] | None = None,
    receipt: bool = False,
    workflow: bool = True,
    version: str = "1.0.0",
) -> Path:
    """A deployment of one scenario ``gen`` with entity ``item``; returns the manifest."""
    package = folder / "scenarios" / "gen"
    if package.exists():
        shutil.rmtree(package)
    package.mkdir(parents=True)
    entity: dict[str, Any] = {"label": "事项", "fields": fields}
    if receipt:
        entity["receipt"] = True
    data: dict[str, Any] = {
        "id": "gen",
        "version": version,
        "title": "生成",
        "roles": {"staff": "工作人员"},
        "entities": {"item": entity},
        "views": views or {"all": {"entity": "item", "label": "全部"}},
    }
    if workflow:
        data["workflows"] = {
            "item": {
                "states": {"draft": "草稿", "done": {"label": "完成", "final": True}},
                "transitions": {
                    "finish": {"from": "draft", "to": "done", "by": "staff"},
                    "reopen": {"from": "done", "to": "draft", "by": "staff"},
                },
            }
        }
    (package / "scenario.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8"
    )
    manifest = folder / "scenarios.yaml"
    manifest.write_text(yaml.safe_dump(MANIFEST, allow_unicode=True, sort_keys=False), "utf-8")
    return manifest


def demo() -> Deployment:
    return load_deployment(ROOT / "scenarios.yaml")


DATABASES = ["sqlite", "postgres"]


def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """For a ``db_url`` fixture parametrized over ``DATABASES``: a SQLite file in
    ``tmp_path``, or a fresh PostgreSQL database (``pg_dsn``; skipped without a server)."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'db' / 'yidi.sqlite3'}"
    return str(request.getfixturevalue("pg_dsn"))


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def with_store(
    deployment: Deployment, url: str, data_dir: Path, body: Callable[[Store], Awaitable[T]]
) -> T:
    """Open the store (syncing the schema), run ``body``, close."""

    async def main() -> T:
        async with open_store(deployment, url, data_dir) as store:
            return await body(store)

    return run(main())


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise's clients send (they log each at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.statements.append(message)

    def __enter__(self) -> QueryCounter:
        logger = logging.getLogger("tortoise.db_client")
        self._level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger("tortoise.db_client")
        logger.removeHandler(self)
        logger.setLevel(self._level)
