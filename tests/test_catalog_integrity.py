"""Integrity and compatibility at install: signatures, checksums, platform and dependencies."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from runtime import PLATFORM_VERSION
from tests.catalogkit import Province, make_county, make_province, run, snapshot, version_of


@pytest.fixture
def province(tmp_path: Path) -> Province:
    return make_province(tmp_path / "province")


def add(county: Path, source: str, spec: str, *extra: str) -> tuple[int, str]:
    return run("catalog", "add", source, spec, "--manifest", str(county), *extra)


def test_a_tampered_archive_is_refused_and_nothing_is_installed(
    tmp_path: Path, province: Province
) -> None:
    archive = next((province.catalog / "packages" / "suggestions").glob("*.tar.gz"))
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    county = make_county(tmp_path, "lc", "鹿城区")
    before = snapshot(county.parent)
    code, out = add(county, str(province.catalog), "suggestions@^1", "--key", province.public)
    assert code == 1
    assert "does not match the signed index" in out and "nothing was installed" in out
    assert snapshot(county.parent) == before


def test_a_tampered_index_or_a_wrong_key_is_refused(tmp_path: Path, province: Province) -> None:
    county = make_county(tmp_path, "lc", "鹿城区")
    index = province.catalog / "index.json"
    original = index.read_text("utf-8")
    # someone swaps in their own archive and fixes the checksum in the index
    index.write_text(original.replace('"requires": ">=0.1.0"', '"requires": ">=0.0.1"', 1), "utf-8")
    code, out = add(county, str(province.catalog), "suggestions@^1", "--key", province.public)
    assert code == 1 and "does not verify with the pinned key" in out
    index.write_text(original, "utf-8")
    other = make_province(tmp_path / "impostor")
    code, out = add(county, str(province.catalog), "suggestions@^1", "--key", other.public)
    assert code == 1 and "does not verify with the pinned key" in out
    code, out = add(county, str(province.catalog), "suggestions@^1")
    assert code == 1 and "no key is pinned" in out and province.public in out
    code, out = add(county, str(province.catalog), "suggestions@^1", "--key", "not-a-key")
    assert code == 1 and "not an Ed25519 public key" in out
    assert "catalogs" not in yaml.safe_load(county.read_text())


def test_the_pinned_key_is_used_for_later_installs(tmp_path: Path, province: Province) -> None:
    county = make_county(tmp_path, "lc", "鹿城区")
    code, out = add(
        county,
        str(province.catalog),
        "suggestions@1.0.0",
        "--key",
        str(province.catalog / "key.pub"),
    )
    assert code == 0, out
    (province.catalog / "index.json.sig").write_text("00" * 64)
    code, out = run("catalog", "outdated", "--manifest", str(county))
    assert code == 1 and "does not verify" in out


def test_a_package_needing_a_newer_platform_is_refused(
    tmp_path: Path, province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = version_of(tmp_path / "work", "3.0.0", "needs the next platform")
    main = folder / "scenario.yaml"
    main.write_text(re.sub(r"(?m)^requires: .*$", 'requires: ">=9.0.0"', main.read_text()), "utf-8")
    with monkeypatch.context() as m:  # the province already runs platform 9.1.0
        m.setattr("runtime.checks.PLATFORM_VERSION", "9.1.0")
        province.publish(folder.parent)
    county = make_county(tmp_path, "lc", "鹿城区")
    code, out = add(county, str(province.catalog), "suggestions@^3", "--key", province.public)
    assert code == 1
    assert (
        f"suggestions 3.0.0 needs platform >=9.0.0, but this platform is {PLATFORM_VERSION}: refused"
        in out
    )
    assert "newest version that runs here is 1.0.0" in out
    code, out = add(county, str(province.catalog), "suggestions", "--key", province.public)
    assert code == 0 and "installed suggestions 1.0.0" in out  # the best that runs here
    code, out = run("catalog", "outdated", "--manifest", str(county))
    assert "needs a newer platform: 3.0.0" in out


def test_unknown_package_and_empty_range(tmp_path: Path, province: Province) -> None:
    county = make_county(tmp_path, "lc", "鹿城区")
    code, out = add(county, str(province.catalog), "sugestions@^1", "--key", province.public)
    assert code == 1 and "no package 'sugestions'" in out and "did you mean 'suggestions'" in out
    code, out = add(county, str(province.catalog), "suggestions@^7", "--key", province.public)
    assert code == 1 and "no version of suggestions matches ^7 (published: 1.0.0)" in out
    code, out = add(county, str(tmp_path / "nowhere"), "suggestions", "--key", province.public)
    assert code == 1 and "no catalog at" in out


def test_dependencies_are_installed_first(tmp_path: Path, province: Province) -> None:
    index = json.loads((province.catalog / "index.json").read_text())
    dependents = [
        p for p, v in index["packages"].items() for r in v["versions"].values() if r.get("depends")
    ]
    if not dependents:
        pytest.skip("no shipped package declares depends")
    pid = dependents[0]
    county = make_county(tmp_path, "lc", "鹿城区")
    code, out = add(county, str(province.catalog), pid, "--key", province.public)
    assert code == 0, out
    assert "installing it first" in out
    entries = yaml.safe_load(county.read_text())["scenarios"]
    for dep in next(iter(index["packages"][pid]["versions"].values()))["depends"]:
        assert entries[dep]["version"]


def test_a_published_version_never_changes(tmp_path: Path, province: Province) -> None:
    folder = version_of(tmp_path / "work", "1.1.0", "first")
    province.publish(folder.parent)
    (folder / "README.md").write_text("changed after publishing", "utf-8")
    code, out = run(
        "catalog", "build", str(folder.parent), str(province.catalog), "--key", str(province.key)
    )
    assert code == 1 and "already published with other content" in out
    code, out = run(
        "catalog",
        "build",
        str(folder.parent),
        str(province.catalog / "x"),
        "--key",
        str(province.catalog / "k"),
    )
    assert code == 1


@pytest.fixture
def served(province: Province) -> Iterator[str]:
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(province.catalog)
    )
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_install_over_http(tmp_path: Path, province: Province, served: str) -> None:
    county = make_county(tmp_path, "lc", "鹿城区")
    code, out = add(county, served, "suggestions@^1", "--key", province.public)
    assert code == 0, out
    lock = yaml.safe_load(county.read_text())
    assert lock["catalogs"]["province"]["url"] == served
    code, out = run("check", str(county))
    assert code == 0, out
    code, out = run("catalog", "outdated", "--manifest", str(county))
    assert code == 0 and "suggestions" in out
