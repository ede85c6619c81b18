"""The widget contract: one class per field type, registered by name.

A widget turns what a user typed (a form string, a JSON value, a CSV cell)
into a stored value, validates it with a localized message, and names the
partial template that renders it. Built-in widgets register through the same
path as added ones: ``widgets/<name>.py`` defining a ``Widget`` subclass with
``register``; a duplicate name stops start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Invalid:
    """A validation message for the user, in both languages; ``code`` is stable."""

    code: str
    zh: str
    en: str

    def text(self, locale: str = "zh") -> str:
        return self.en if locale.startswith("en") else self.zh


class Widget:
    """Base class of every field widget.

    ``name``            the field ``type`` authors write in YAML.
    ``label``           what the type is called, for docs and errors.
    ``expr_type``       the expression-language type kind of its value
                        (text, number, bool, date, datetime, user, org, ref,
                        file, location, list, children).
    ``options``         the type-specific YAML keys it accepts, each with a
                        one-line description (documented in the schema too).
    ``required_options``the keys among ``options`` that must be present.
    ``template``        its partial template (``_<name>.html``).
    """

    name: ClassVar[str]
    label: ClassVar[str]
    expr_type: ClassVar[str]
    options: ClassVar[Mapping[str, str]] = {}
    required_options: ClassVar[tuple[str, ...]] = ()
    template: ClassVar[str] = ""

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        """Turn raw input into a value; ('', None, []) mean empty → ``(None, None)``."""
        raise NotImplementedError

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        """Check a parsed, non-empty value against the field's options."""
        return None

    def check_options(self, field: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Authoring checks of the field's options: ``[(option_key, message), …]``."""
        return []


REGISTRY: dict[str, Widget] = {}


class DuplicateWidget(Exception):
    pass


def register(cls: type[Widget]) -> type[Widget]:
    """Class decorator: add a widget to the registry; a duplicate name is an error.

    The same class registering again (its module re-executed, as by a reload)
    replaces its entry rather than counting as a duplicate.
    """
    existing = REGISTRY.get(cls.name)
    if existing is not None and _same_class(type(existing), cls):
        REGISTRY[cls.name] = cls()
        return cls
    if cls.name in REGISTRY:
        raise DuplicateWidget(
            f"widget '{cls.name}' is registered twice: {type(REGISTRY[cls.name]).__module__} "
            f"and {cls.__module__}"
        )
    REGISTRY[cls.name] = cls()
    return cls


def _same_class(old: type[Widget], new: type[Widget]) -> bool:
    return (old.__module__, old.__qualname__) == (new.__module__, new.__qualname__)
