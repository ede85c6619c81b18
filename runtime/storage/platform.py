"""The platform's own tables (static Tortoise models), all prefixed ``yidi_``.

``OrgUnit``      the org tree of the manifest, with a materialised path
``User``         accounts (the auth layer fills them)
``Grant``        a platform role of a user at an org unit
``Attachment``   an uploaded file, stored by content hash under the data dir
``Change``       the append-only audit trail and record timeline
``ColumnState``  what kind each column was created for (schema sync)
``Migration``    each applied step of a package's data migrations (``yidi migrate --apply``)
"""

from __future__ import annotations

import importlib

from tortoise import fields
from tortoise.models import Model

from runtime.storage.columns import IsoDatetimeField, JsonTextField


class OrgUnit(Model):
    id = fields.CharField(max_length=64, primary_key=True)
    parent_id = fields.CharField(max_length=64, null=True, db_index=True)
    kind = fields.CharField(max_length=32)
    label = JsonTextField(null=True)
    path = fields.CharField(max_length=1000, db_index=True)

    class Meta:
        table = "yidi_org_unit"


class User(Model):
    id = fields.BigIntField(primary_key=True)
    login = fields.CharField(max_length=128, unique=True)
    name = fields.CharField(max_length=200)
    password_hash = fields.CharField(max_length=500, null=True)
    active = fields.BooleanField(default=True)
    failed_logins = fields.IntField(default=0)
    locked_until = IsoDatetimeField(null=True)
    created_at = IsoDatetimeField(auto_now_add=True)

    class Meta:
        table = "yidi_user"


class Grant(Model):
    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "yidi.User", related_name="grants", on_delete=fields.CASCADE
    )
    org_unit_id = fields.CharField(max_length=64, db_index=True)
    role = fields.CharField(max_length=64)

    class Meta:
        table = "yidi_grant"
        unique_together = (("user", "org_unit_id", "role"),)


class Attachment(Model):
    id = fields.BigIntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, db_index=True)
    name = fields.CharField(max_length=255)
    size = fields.BigIntField()
    content_type = fields.CharField(max_length=255)
    path = fields.CharField(max_length=255)  # relative to the data dir
    entity = fields.CharField(max_length=130, null=True)  # scenario.entity
    record_id = fields.BigIntField(null=True)
    field = fields.CharField(max_length=64, null=True)
    created_by = fields.BigIntField(null=True)
    created_at = IsoDatetimeField(auto_now_add=True)

    class Meta:
        table = "yidi_attachment"
        indexes = (("entity", "record_id"),)


class Change(Model):
    """One create, update, transition or delete of a record (never updated)."""

    id = fields.BigIntField(primary_key=True)
    table = fields.CharField(max_length=63)
    record_id = fields.BigIntField()
    action = fields.CharField(max_length=32)
    actor = fields.BigIntField(null=True)
    at = IsoDatetimeField()
    ip = fields.CharField(max_length=64, null=True)
    before = JsonTextField(null=True)
    after = JsonTextField(null=True)
    note = fields.TextField(null=True)

    class Meta:
        table = "yidi_change"
        indexes = (("table", "record_id"),)


class ColumnState(Model):
    id = fields.BigIntField(primary_key=True)
    table = fields.CharField(max_length=63)
    column = fields.CharField(max_length=80)
    signature = fields.CharField(max_length=64)

    class Meta:
        table = "yidi_column_state"
        unique_together = (("table", "column"),)


class Migration(Model):
    """One applied step of a data migration of a package (so that it never runs twice)."""

    # a step is known by its package, the range of its migration (from) and its
    # position in the steps; version is the package version that applied it

    id = fields.BigIntField(primary_key=True)
    package = fields.CharField(max_length=64)
    version = fields.CharField(max_length=64)
    source = fields.CharField(max_length=200)
    step = fields.IntField()
    kind = fields.CharField(max_length=32)
    changed = fields.IntField(default=0)
    applied_at = IsoDatetimeField()

    class Meta:
        table = "yidi_migration"
        unique_together = (("package", "source", "step"),)


MODELS = (OrgUnit, User, Grant, Attachment, Change, ColumnState, Migration)
TABLES = tuple(m._meta.db_table for m in MODELS)

#: other modules of static models that live in the same database (e.g. web sessions)
EXTRA_MODULES: list[str] = []


def register_models(module: str) -> None:
    """Have every store include the Tortoise models of ``module`` (created by the sync)."""
    if module not in EXTRA_MODULES:
        EXTRA_MODULES.append(module)


def models_of(module: str) -> list[type[Model]]:
    """The Tortoise models a module declares (``__models__``, else its Model classes)."""
    found = importlib.import_module(module)
    declared = getattr(found, "__models__", None)
    if declared is not None:
        return list(declared)
    return [
        obj
        for obj in vars(found).values()
        if isinstance(obj, type)
        and issubclass(obj, Model)
        and obj.__module__ == module
        and not obj._meta.abstract
    ]
