"""The YAML loader: positions, YAML 1.2 scalars, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.loader import LoadError, load_file, merge, parse_text


def mistakes_of(text: str) -> list[str]:
    with pytest.raises(LoadError) as info:
        parse_text(text, "f.yaml")
    return [str(m) for m in info.value.mistakes]


def test_positions_of_keys_and_values() -> None:
    doc = parse_text("a:\n  b: 1\n  c: [x, y]\n", "f.yaml")
    assert doc.data == {"a": {"b": 1, "c": ["x", "y"]}}
    assert (doc.marks[("a", "b")].line, doc.marks[("a", "b")].column) == (2, 6)
    assert (doc.key_marks[("a", "c")].line, doc.key_marks[("a", "c")].column) == (3, 3)
    assert (doc.marks[("a", "c", 1)].line, doc.marks[("a", "c", 1)].column) == (3, 10)
    # a path without its own mark falls back to the nearest ancestor
    assert doc.mark(("a", "missing", "deeper")).line == 2


def test_yaml_1_2_scalars() -> None:
    doc = parse_text(
        "a: yes\nb: no\nc: on\nd: true\ne: 2026-01-01\nf: '1'\ng: 1.5\nh: ~\ni: 0x1f\nj: !!str 12\n",
        "f.yaml",
    )
    assert doc.data == {
        "a": "yes",
        "b": "no",
        "c": "on",
        "d": True,
        "e": "2026-01-01",
        "f": "1",
        "g": 1.5,
        "h": None,
        "i": 31,
        "j": "12",
    }


def test_duplicate_keys_name_both_lines() -> None:
    found = mistakes_of("top:\n  a: 1\n  b: 2\n  a: 3\n  b: 4\n")
    assert found == [
        "f.yaml:4:3: top.a: duplicate key 'a' (first defined at line 2) (expected each key once per mapping); remove one of the two, or merge them",
        "f.yaml:5:3: top.b: duplicate key 'b' (first defined at line 3) (expected each key once per mapping); remove one of the two, or merge them",
    ]


def test_alias_bomb_is_bounded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    found = mistakes_of("\n".join(lines) + "\n")
    assert len(found) == 1
    assert "expands to more than 100000 nodes" in found[0]


def test_recursive_alias_is_refused() -> None:
    found = mistakes_of("a: &x\n  b: *x\n")
    assert "an alias refers to the node that contains it" in found[0]


def test_tabs_in_indentation_every_line() -> None:
    found = mistakes_of("a:\n\tb: 1\n\tc: 2\n")
    assert found[0].startswith("f.yaml:2:1: <text>: tab character in indentation")
    assert found[1].startswith("f.yaml:3:1:")


def test_tab_in_a_block_scalar_is_refused_with_its_place() -> None:
    found = mistakes_of("a: |\n  \tindented text\nb: 1\n")
    assert found[0].startswith("f.yaml:2:3: <text>: found a tab character")
    assert "indent with spaces only" in found[0]


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['echo hi']\n",
        "a: !!python/name:os.system\n",
        "a: !custom 1\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!set {x}\n",
    ],
)
def test_no_tag_constructs_anything(text: str) -> None:
    found = mistakes_of(text)
    assert "is not allowed" in found[0]


def test_merge_keys_are_refused() -> None:
    found = mistakes_of("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert "merge keys" in found[0]


def test_unclosed_bracket_points_at_where_it_opened() -> None:
    found = mistakes_of("a: [1, 2\nb: 3\n")
    assert found[0].startswith("f.yaml:1:4: <text>: the '[' opened here is not closed")
    assert "close it with ']'" in found[0]


def test_syntax_error_has_line_and_column() -> None:
    found = mistakes_of("a: 1\n  b: 2\nc: 3\n")
    assert found[0].startswith("f.yaml:2:")


def test_two_documents_are_refused() -> None:
    found = mistakes_of("a: 1\n---\nb: 2\n")
    assert "more than one document" in found[0]


def test_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 2000 + "\n")
    with pytest.raises(LoadError) as info:
        load_file(big, display="big.yaml", max_bytes=1000)
    assert "over the limit" in str(info.value)


def test_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes("a: 标题\nb: ".encode() + "中文".encode("gbk") + b"\n")
    with pytest.raises(LoadError) as info:
        load_file(bad, display="bad.yaml")
    assert str(info.value).startswith("bad.yaml:2:4: <text>: the file is not valid UTF-8")


def test_merge_of_files_reports_a_key_in_two_files() -> None:
    one = parse_text("entities:\n  a: {label: A}\nviews:\n  v: {entity: a}\n", "one.yaml")
    two = parse_text("entities:\n  b: {label: B}\nviews:\n  v: {entity: b}\n", "two.yaml")
    doc, found = merge([one, two])
    assert set(doc.data["entities"]) == {"a", "b"}
    assert doc.mark(("entities", "b")).file == "two.yaml"
    assert [str(m) for m in found] == [
        "two.yaml:4:3: views.v: 'views.v' is defined twice (first at one.yaml:4) (expected each id in one file only); keep one definition"
    ]
