"""The browser libraries built from npm at set-up (issue 5): present, non-trivial, and exactly the
versions pinned in frontend/package-lock.json."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
VENDOR = ROOT / "static" / "vendor"
BUNDLES = {"socket.io.min.js": 20_000, "editor.min.js": 200_000}
EXACT = re.compile(r"^\d+\.\d+\.\d+$")


def _lock() -> dict[str, dict[str, object]]:
    packages: dict[str, dict[str, object]] = json.loads(
        (FRONTEND / "package-lock.json").read_text(encoding="utf-8")
    )["packages"]
    return packages


def _locked_version(name: str) -> str:
    return str(_lock()[f"node_modules/{name}"]["version"])


def _built(name: str) -> Path:
    path = VENDOR / name
    if not path.is_file():
        pytest.fail(f"{path} missing: run `make install` (it builds static/vendor from npm)")
    return path


def test_package_json_pins_exact_versions() -> None:
    manifest = json.loads((FRONTEND / "package.json").read_text(encoding="utf-8"))
    assert manifest["private"] is True
    pinned = {**manifest["dependencies"], **manifest["devDependencies"]}
    assert {"socket.io-client", "codemirror", "esbuild"} <= pinned.keys()
    for name, wanted in pinned.items():
        assert EXACT.match(wanted), f"{name} {wanted!r} is a range, not an exact version"
        assert _locked_version(name) == wanted
    assert _lock()[""]["dependencies"] == manifest["dependencies"]


def test_socketio_client_speaks_the_servers_protocol() -> None:
    # python-socketio 5.x / python-engineio 4.x speak Socket.IO protocol 5 / Engine.IO 4, which is
    # the JavaScript client 3.x and 4.x (python-socketio's compatibility table).
    assert version("python-socketio").split(".")[0] == "5"
    assert version("python-engineio").split(".")[0] == "4"
    assert _locked_version("socket.io-client").split(".")[0] == "4"


def test_codemirror_is_version_6_not_the_mislabelled_5() -> None:
    # npm's "latest" tag of `codemirror` points at 6.65.7, which is CodeMirror 5 code
    # (lib/codemirror.js, no dependencies); CodeMirror 6's package is codemirror 6.0.x.
    assert _locked_version("codemirror").startswith("6.0.")
    assert "node_modules/@codemirror/view" in _lock()


@pytest.mark.parametrize(("name", "minimum"), BUNDLES.items())
def test_bundles_are_built_and_non_trivial(name: str, minimum: int) -> None:
    text = _built(name).read_text(encoding="utf-8")
    assert len(text) > minimum
    assert text.startswith("/*! examsvc ")  # the license comment naming what is inside
    assert "LICENSES.txt" in text.splitlines()[0]
    assert "sourceMappingURL" not in text


def test_versions_txt_matches_the_lockfile() -> None:
    rows = [
        line.split()
        for line in _built("VERSIONS.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    listed = {row[0]: row[1] for row in rows}
    for name, listed_version in listed.items():
        assert listed_version == _locked_version(name), name
    assert {"socket.io-client", "engine.io-client", "codemirror", "@codemirror/view"} <= set(listed)
    assert {"@codemirror/lang-html", "@codemirror/lang-css", "@codemirror/lang-javascript"} <= set(
        listed
    )
    assert listed["esbuild"] == _locked_version("esbuild")
    licenses = _built("LICENSES.txt").read_text(encoding="utf-8")
    for name, listed_version in listed.items():
        if name != "esbuild":
            assert f"{name} {listed_version} (" in licenses
