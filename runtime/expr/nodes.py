"""The typed tree a parsed expression becomes; both compilers walk it.

Operators (``op``) and what they hold:

- ``lit`` (``value``: a Python value), ``list`` (``value``: tuple of item values)
- ``field`` (``value``: the record name), ``user``, ``user_org``, ``now``, ``today``
- ``neg``, ``add``, ``sub``, ``mul``, ``div``, ``mod``, ``concat``
- ``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge`` (two args), ``chain`` (n args,
  ``value``: the n-1 comparison ops), ``isnull``
- ``and``, ``or`` (n args), ``not``, ``in`` (x, a ``list`` node), ``if`` (c, a, b)
- the functions by name (``len``, ``contains`` …; ``round`` keeps its digits in ``value``)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .types import Type

COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})


@dataclass(frozen=True, eq=False)
class Node:
    op: str
    type: Type
    args: tuple[Node, ...] = ()
    value: Any = None
    offset: int = 0
    #: may the Python value be null? (the SQL of a condition may also be null
    #: where Python says false; the SQL compiler tracks that itself)
    nullable: bool = True
