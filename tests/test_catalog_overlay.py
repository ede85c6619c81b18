"""Overlays: what they can change, and mistakes reported at the overlay's file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.deployment import load_deployment
from runtime.model import text
from tests.catalogkit import Province, make_county, make_province, run


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Province:
    return make_province(tmp_path_factory.mktemp("province"))


def county_with(
    tmp_path: Path, province: Province, overlay: str | None = None, inline: str = ""
) -> Path:
    county = make_county(tmp_path, "lc", "鹿城区", overlay)
    if inline:
        county.write_text(county.read_text() + inline, "utf-8")
    _code, out = run(
        "catalog",
        "add",
        str(province.catalog),
        "suggestions@^1",
        "--key",
        province.public,
        "--manifest",
        str(county),
    )
    assert "installed suggestions 1.0.0" in out, out
    return county


def test_every_kind_of_change(tmp_path: Path, province: Province) -> None:
    county = county_with(
        tmp_path,
        province,
        """\
roles:
  reviewer: {label: 复核员}
entities:
  suggestion:
    fields:
      title: {zh: 题目, en: Subject}
      district: {type: choice, label: 片区, options: [东片, 西片]}
      rating: {options: [满意, 不满意]}
workflows:
  suggestion:
    states:
      review: 复审
      handling: {deadline: {days: 20, field: ~}}
    transitions:
      reject: {enabled: false}
      accept: {by: [staff, reviewer]}
      recall: {from: review, to: draft, by: staff, label: 收回}
forms:
  new: {roles: [deputy, staff]}
views:
  all: {roles: [staff]}
dashboards:
  overview:
    cards:
      received: {label: 收件数}
""",
    )
    overrides = county.parent / "overrides" / "suggestions.yaml"
    code, out = run("check", str(county))
    # `field: ~` cannot remove the package's deadline field: reported at the overlay's line
    assert code == 1
    assert any(
        "overrides/suggestions.yaml:13:" in x and "cannot remove" in x for x in out.splitlines()
    ), out
    overrides.write_text(
        overrides.read_text().replace("{days: 20, field: ~}", "{days: 20}"), "utf-8"
    )
    county.write_text(
        county.read_text().replace(
            "roles: {handler: department}", "roles: {handler: department, reviewer: staff}"
        )
    )
    code, out = run("check", str(county))
    assert code == 0, out
    s = load_deployment(county).scenarios["suggestions"]
    entity = s.entities["suggestion"]
    assert (
        text(entity.fields["title"].label, "en") == "Subject"
        and text(entity.fields["title"].label) == "题目"
    )
    assert entity.fields["district"].spec["options"] == ["东片", "西片"]
    assert entity.fields["rating"].spec["options"] == ["满意", "不满意"]
    flow = s.workflows["suggestion"]
    assert text(flow.spec["states"]["review"]["label"]) == "复审"
    assert flow.spec["states"]["handling"]["deadline"]["days"] == 20
    assert "reject" not in flow.transitions and "reject" not in s.views["all"].spec["actions"]
    assert flow.transitions["recall"].spec["to"] == "draft"
    assert flow.transitions["accept"].spec["by"] == ["staff", "reviewer"]
    assert s.forms["new"].spec["roles"] == ["deputy", "staff"]
    assert s.views["all"].spec["roles"] == ["staff"]
    assert s.data["dashboards"]["overview"]["cards"]["received"]["label"] == "收件数"
    assert "reviewer" in s.roles


def test_overlay_mistakes_name_the_overlay_file_and_line(
    tmp_path: Path, province: Province
) -> None:
    county = county_with(
        tmp_path,
        province,
        """\
version: 9.9.9
entities:
  suggestion:
    fields:
      titel: {label: 题目}
      category: {options: 教育}
workflows:
  suggestion:
    transitions:
      supervise: {enabled: false}
      rejet: {enabled: false}
      withdraw: {enabled: false}
forms:
  new:
    sections:
      main: {fields: [title, nope]}
""",
    )
    code, out = run("check", str(county))
    assert code == 1
    lines = out.splitlines()

    def at(line: int, words: str) -> None:
        assert any(f"overrides/suggestions.yaml:{line}:" in x and words in x for x in lines), (
            line,
            words,
            out,
        )

    at(1, "an overlay cannot change the package's version")
    at(5, "did you mean 'title'?")  # a new field without a type: a typo
    at(6, "entities.suggestion.fields.category.options")
    at(10, "still uses it")  # supervise is fired by the handling deadline
    at(11, "which the package does not have")
    at(12, "leaves state 'withdrawn' unreachable")
    at(16, "unknown field 'nope'")


def test_inline_overrides_in_scenarios_yaml(tmp_path: Path, province: Province) -> None:
    county = county_with(tmp_path, province)
    text_now = county.read_text()
    county.write_text(
        text_now.replace(
            "    roles: {handler: department}\n",
            "    roles: {handler: department}\n    overrides:\n      entities:\n        suggestion:\n          fields:\n            body: {label: 正文, max: oops}\n",
        ),
        "utf-8",
    )
    code, out = run("check", str(county))
    assert code == 1
    assert "scenarios.yaml:" in out and "entities.suggestion.fields.body.max" in out
    county.write_text(county.read_text().replace("max: oops", "max: 3000"), "utf-8")
    code, out = run("check", str(county))
    assert code == 0, out
    body = load_deployment(county).scenarios["suggestions"].entities["suggestion"].fields["body"]
    assert text(body.label) == "正文" and body.spec["max"] == 3000


def test_the_shipped_library_still_checks() -> None:
    code, out = run("check", "scenarios/", "scenarios.yaml")
    assert code == 0, out
