"""The whole catalog story: the province publishes, two counties install with their
own overlays, a compatible upgrade goes through, a breaking one is refused."""

from __future__ import annotations

from pathlib import Path

import yaml

from runtime.deployment import load_deployment
from runtime.model import text
from tests.catalogkit import make_county, make_province, run, snapshot, version_of

OVERLAY_A = """\
# Lucheng: a district field, fewer categories, a shorter first review
entities:
  suggestion:
    fields:
      district: {type: choice, label: 所属片区, options: [东片, 西片]}
      category: {options: [教育, 交通出行, 其他]}
workflows:
  suggestion:
    states:
      review: {deadline: {days: 3}}
"""

OVERLAY_B = """\
# Rui'an: our own wording, and no returning suggestions for revision
entities:
  suggestion:
    fields:
      title: 建议题目
      affected: {label: 受益群众人数}
workflows:
  suggestion:
    transitions:
      reject: {enabled: false}
"""


def test_province_publishes_counties_install_adapt_and_upgrade(tmp_path: Path) -> None:
    province = make_province(tmp_path / "province")
    index = (province.catalog / "index.json").read_text("utf-8")
    assert '"suggestions"' in index and '"1.0.0"' in index

    county_a = make_county(tmp_path, "lc", "鹿城区", OVERLAY_A)
    county_b = make_county(tmp_path, "ra", "瑞安市", OVERLAY_B)
    for county in (county_a, county_b):
        code, out = run(
            "catalog",
            "add",
            str(province.catalog),
            "suggestions@^1.0",
            "--key",
            province.public,
            "--manifest",
            str(county),
        )
        assert code == 0, out
        assert "installed suggestions 1.0.0" in out and "signature verified" in out
        assert "mistake" not in out
        lock = yaml.safe_load(county.read_text("utf-8"))
        assert lock["scenarios"]["suggestions"]["version"] == "1.0.0"
        assert lock["scenarios"]["suggestions"]["checksum"].startswith("sha256:")
        assert lock["scenarios"]["suggestions"]["roles"] == {"handler": "department"}
        assert lock["catalogs"]["province"]["key"] == province.public
        assert "# the province's handler role is our department role" in county.read_text("utf-8")
        code, out = run("check", str(county))
        assert code == 0, out

    a = load_deployment(county_a).scenarios["suggestions"]
    b = load_deployment(county_b).scenarios["suggestions"]
    fields_a, fields_b = a.entities["suggestion"].fields, b.entities["suggestion"].fields
    assert "district" in fields_a and "district" not in fields_b
    assert fields_a["category"].spec["options"] == ["教育", "交通出行", "其他"]
    assert text(fields_b["title"].label) == "建议题目"
    assert text(fields_a["title"].label) == "标题"
    assert "reject" not in b.workflows["suggestion"].transitions
    assert "reject" in a.workflows["suggestion"].transitions
    assert "reject" not in b.views["all"].spec["actions"]
    assert a.data["workflows"]["suggestion"]["states"]["review"]["deadline"]["days"] == 3

    # the province publishes 1.1.0 (adds a field) and 2.0.0 (removes `affected`)
    province.publish(version_of(tmp_path / "work", "1.1.0", "新增建议编号字段。").parent)
    province.publish(version_of(tmp_path / "work", "2.0.0", "删除涉及群众人数字段。").parent)

    code, out = run("catalog", "outdated", "--manifest", str(county_a))
    assert code == 0, out
    assert "1.0.0" in out and "1.1.0" in out and "2.0.0" in out

    code, out = run(
        "catalog", "upgrade", "suggestions@^1", "--manifest", str(county_a), "--no-data"
    )
    assert code == 0, out
    assert "1.0.0 → 1.1.0" in out
    assert "+ field suggestion.number" in out
    assert yaml.safe_load(county_a.read_text())["scenarios"]["suggestions"]["version"] == "1.1.0"
    upgraded = load_deployment(county_a).scenarios["suggestions"]
    assert upgraded.version == "1.1.0"
    assert {"number", "district"} <= set(upgraded.entities["suggestion"].fields)
    assert upgraded.entities["suggestion"].fields["category"].spec["options"] == [
        "教育",
        "交通出行",
        "其他",
    ]

    before = snapshot(county_b.parent)
    code, out = run("catalog", "upgrade", "suggestions", "--manifest", str(county_b), "--no-data")
    assert code == 1
    assert "overlay relabels field `affected`, removed in 2.0.0" in out
    assert "overrides/suggestions.yaml:6:" in out  # the overlay's own line
    assert "- field suggestion.affected" in out
    assert "refused; nothing was changed" in out
    assert snapshot(county_b.parent) == before

    # both counties still run with their overlays
    assert (
        text(
            load_deployment(county_b)
            .scenarios["suggestions"]
            .entities["suggestion"]
            .fields["affected"]
            .label
        )
        == "受益群众人数"
    )
    code, out = run("catalog", "list", "--manifest", str(county_b))
    assert "suggestions" in out and "1.0.0" in out and "overrides/suggestions.yaml" in out
    code, out = run("catalog", "list", "--manifest", str(county_a))
    assert "1.1.0" in out and "overrides/suggestions.yaml" in out
