"""The static types of the expression language.

A ``Type`` is a kind (``"text"``, ``"number"`` …) and, for lists, the type of
the items. ``NULL`` is the type of the ``null`` literal and fits everywhere;
``ANY`` is a type the checker knows nothing about (the items of ``[]``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Type:
    kind: str
    item: Type | None = None

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list of {self.item}"
        return self.kind

    @property
    def is_list(self) -> bool:
        return self.kind == "list"


TEXT = Type("text")
NUMBER = Type("number")
BOOL = Type("bool")
DATE = Type("date")
DATETIME = Type("datetime")
USER = Type("user")
ORG = Type("org")
REF = Type("ref")
FILE = Type("file")
LOCATION = Type("location")
NULL = Type("null")
ANY = Type("any")

SCALARS = (TEXT, NUMBER, BOOL, DATE, DATETIME, USER, ORG, REF, FILE, LOCATION)
#: kinds that ``<``, ``<=``, ``min`` … accept
ORDERED = frozenset({"text", "number", "date", "datetime"})
#: kinds a list may hold (they have one JSON form in both databases)
LIST_ITEMS = frozenset({"text", "number", "user", "org", "ref", "any"})
#: kinds whose values are ids (int or str)
IDS = frozenset({"user", "org", "ref"})
#: kinds that only support ``== null``, ``!= null`` and ``empty()``
OPAQUE = frozenset({"file", "location"})


def list_of(item: Type) -> Type:
    return Type("list", item)


def unify(a: Type, b: Type) -> Type | None:
    """The type both ``a`` and ``b`` fit, or None when they do not go together."""
    if a == b:
        return a
    if a.kind in ("null", "any"):
        return b if a.kind == "null" or b.kind != "null" else a
    if b.kind in ("null", "any"):
        return a
    if a.is_list and b.is_list and a.item is not None and b.item is not None:
        item = unify(a.item, b.item)
        return None if item is None else list_of(item)
    return None


def describe(t: Type) -> str:
    """A phrase for messages: ``a number``, ``an org``, ``a list of text``."""
    if t.kind == "null":
        return "null"
    text = str(t)
    return ("an " if t.kind in ("org", "any") else "a ") + text
