"""Templates: one Jinja environment per theme, and the page-or-fragment helper.

Lookup chain (first found wins): ``themes/<theme>/templates`` →
``themes/default/templates`` → each scenario's ``templates/`` → the runtime's
``runtime/templates`` → the widgets' ``widgets/templates``. A city theme
overrides one template by placing a file of the same name; ``{% extends
"default:base.html" %}`` extends the runtime's own version.

``render`` answers an htmx request (``HX-Request``) with one block of the page
and a normal request with the whole page, and always sends ``Vary: HX-Request``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2_fragments import render_block
from starlette.requests import Request
from starlette.responses import HTMLResponse

from runtime.model import text as label_text
from runtime.web import i18n

ROOT = Path(__file__).resolve().parent.parent.parent
RUNTIME_TEMPLATES = ROOT / "runtime" / "templates"
WIDGET_TEMPLATES = ROOT / "widgets" / "templates"
THEMES = ROOT / "themes"


class Templates:
    def __init__(self, scenario_dirs: list[Path], theme_dirs: list[Path] | None = None) -> None:
        self.scenario_dirs = [d for d in scenario_dirs if d.is_dir()]
        self.theme_dirs = theme_dirs or [THEMES]
        self.envs: dict[str, jinja2.Environment] = {}
        self.globals: dict[str, Any] = {}

    def themes(self) -> list[str]:
        found = set()
        for base in self.theme_dirs:
            if base.is_dir():
                found |= {
                    p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")
                }
        return sorted(found)

    def env(self, theme: str) -> jinja2.Environment:
        if theme not in self.envs:
            chain: list[jinja2.BaseLoader] = []
            for base in self.theme_dirs:
                for name in dict.fromkeys([theme, "default"]):
                    if (base / name / "templates").is_dir():
                        chain.append(jinja2.FileSystemLoader(base / name / "templates"))
            chain += [jinja2.FileSystemLoader(d) for d in self.scenario_dirs]
            defaults = jinja2.FileSystemLoader([RUNTIME_TEMPLATES, WIDGET_TEMPLATES])
            chain.append(defaults)
            loader = jinja2.PrefixLoader({"default": defaults})
            env = jinja2.Environment(
                loader=jinja2.ChoiceLoader([loader, *chain]),
                autoescape=True,
                undefined=jinja2.ChainableUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.globals.update(self.globals)
            env.globals["theme"] = theme
            env.filters["label"] = label_text
            self.envs[theme] = env
        return self.envs[theme]


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    block: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The whole page, or for an htmx request the named block (default: ``main``)."""
    app_state = request.app.state
    locale = i18n.locale_of(request, app_state.default_locale)
    ctx = {
        "request": request,
        "locale": locale,
        "t": lambda key, **kw: i18n.t(key, locale, **kw),
        "L": lambda value: label_text(value, locale),
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        **context,
    }
    env = app_state.templates.env(getattr(request.state, "theme", "default"))
    htmx = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")
    wanted = block or ("main" if htmx else None)
    body = render_block(env, name, wanted, ctx) if wanted else env.get_template(name).render(ctx)
    response = HTMLResponse(body, status_code=status, headers=dict(headers or {}))
    response.headers["Vary"] = "HX-Request"
    return response
