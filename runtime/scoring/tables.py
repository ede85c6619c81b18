"""The tables of scores: live scores, published snapshots (亮分) and computation runs.

``yidi_score`` holds one row per (rule, period, subject, item): for an item its
raw ``value`` (a count or a sum) and its ``points`` (capped and weighted; rows
of items that matched nothing are left out); for the total (item ``_total``)
the total points as ``value``, the banded and ranked score as ``points``
(the total, or the index the rule names), the ``band`` and the ``rank``; for
an index (item ``_i_<id>``) its value in both. ``org``/``org_path`` place the
subject in the tree (a deputy at the deepest unit where they hold the role),
``grp`` is its ranking group. ``yidi_score_published`` is the same rows,
frozen when a period is published. ``yidi_score_run`` says which (rule, period)
were computed, when, and when published.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from runtime.storage.columns import IsoDatetimeField, VarcharField
from runtime.storage.platform import register_models

COLUMNS = (
    "rule",
    "period",
    "subject",
    "org",
    "org_path",
    "grp",
    "item",
    "value",
    "points",
    "rank",
    "band",
)
#: a ranking group's rows (a write re-ranks the group from them)
GROUP_INDEX = ("rule", "period", "grp", "item")


class _ScoreRow(Model):
    """The columns a live score and its published snapshot share."""

    id = fields.BigIntField(primary_key=True)
    rule = VarcharField(max_length=130)
    period = VarcharField(max_length=16)
    subject = VarcharField(max_length=64)
    org = VarcharField(max_length=64, null=True)
    org_path = VarcharField(max_length=1000, null=True)
    grp = VarcharField(max_length=64, null=True)
    item = VarcharField(max_length=64)
    value = fields.FloatField(null=True)
    points = fields.FloatField(null=True)
    rank = fields.IntField(null=True)
    band = VarcharField(max_length=48, null=True)

    class Meta:
        abstract = True


class Score(_ScoreRow):
    class Meta:
        table = "yidi_score"
        indexes = (
            ("rule", "period", "subject"),
            ("rule", "period", "item", "org_path"),
            GROUP_INDEX,
        )


class PublishedScore(_ScoreRow):
    class Meta:
        table = "yidi_score_published"
        indexes = (("rule", "period", "subject"), ("rule", "period", "item", "org_path"))


class ScoreRun(Model):
    id = fields.BigIntField(primary_key=True)
    rule = VarcharField(max_length=130)
    period = VarcharField(max_length=16)
    computed_at = IsoDatetimeField(null=True)
    published_at = IsoDatetimeField(null=True)
    published_by = fields.BigIntField(null=True)

    class Meta:
        table = "yidi_score_run"
        unique_together = (("rule", "period"),)


__models__ = [Score, PublishedScore, ScoreRun]

register_models(__name__)


def group_index_sql() -> str:
    """The group index, for a database whose score table predates it (the name is the one
    Tortoise gives it when it creates the table, so it is never made twice)."""
    from tortoise.backends.base.schema_generator import BaseSchemaGenerator

    hashed = BaseSchemaGenerator._make_hash("yidi_score", *GROUP_INDEX, length=6)
    name = f"idx_yidi_score_rule_{hashed}"  # Tortoise's _get_index_name
    columns = ", ".join(f'"{c}"' for c in GROUP_INDEX)
    return f'CREATE INDEX IF NOT EXISTS "{name}" ON "yidi_score" ({columns})'
