"""The compiled core (dealreg/_native.py): used only when it matches the sources, off on
request, never a requirement, and deciding exactly as the interpreted modules do.

`make test` runs the whole suite twice, compiled and interpreted (DEALREG_PURE_PYTHON=1),
so every other test checks both; these check the switch itself."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dealreg import _native

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PURE = os.environ.get(_native.OFF, "").strip() not in ("", "0")


@pytest.fixture
def build_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A build directory of our own: these tests never touch build/native."""
    monkeypatch.setattr(_native, "BUILD", tmp_path)
    monkeypatch.setattr(_native, "MANIFEST", tmp_path / "manifest.json")
    monkeypatch.delenv(_native.OFF, raising=False)
    return tmp_path


def write_manifest(build_dir: Path, **changes: object) -> None:
    manifest = {"python": _native._python(), "sources": _native.source_hashes(), "compiled": True} | changes
    (build_dir / "manifest.json").write_text(json.dumps(manifest))


def test_a_build_that_matches_the_sources_is_used(build_dir: Path):
    write_manifest(build_dir)
    assert _native.native_path() == str(build_dir / "dealreg")


def test_a_build_older_than_the_sources_is_not_used_and_says_so(build_dir: Path, capsys: pytest.CaptureFixture[str]):
    hashes = _native.source_hashes()
    write_manifest(build_dir, sources=hashes | {"match.py": "0" * 64})
    assert _native.native_path() is None
    assert "older than the sources" in capsys.readouterr().err


def test_no_build_a_failed_build_or_another_python_means_interpreted(build_dir: Path):
    assert _native.native_path() is None  # never built: Lambda, a fresh clone
    write_manifest(build_dir, compiled=False, reason="no C compiler")
    assert _native.native_path() is None
    write_manifest(build_dir, python="cpython-312-linux")
    assert _native.native_path() is None
    (build_dir / "manifest.json").write_text("{not json")
    assert _native.native_path() is None


def test_an_edited_source_is_never_shadowed_by_its_older_compiled_copy(tmp_path: Path):
    """End to end, on a copy of the package and its build: edit one source, and the package
    imports the edited source, with a warning, until the build is made again."""
    if not _native.MANIFEST.exists() or not json.loads(_native.MANIFEST.read_text())["compiled"]:
        pytest.skip("no compiled build here")
    shutil.copytree(_native.PACKAGE, tmp_path / "dealreg", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(_native.BUILD, tmp_path / "build" / "native")
    probe = "import dealreg.match as m; print(m.__file__)"
    env = os.environ | {"PYTHONPATH": str(tmp_path), _native.OFF: ""}

    def imported() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path,
                              check=True)

    fresh = imported()
    assert fresh.stdout.strip().startswith(str(tmp_path / "build" / "native" / "dealreg" / "match."))
    assert fresh.stderr == ""
    with (tmp_path / "dealreg" / "rules.py").open("a") as f:  # not even a compiled module: its types are read
        f.write("\n# edited\n")
    stale = imported()
    assert stale.stdout.strip() == str(tmp_path / "dealreg" / "match.py")
    assert "older than the sources" in stale.stderr


def test_the_switch_turns_a_good_build_off(build_dir: Path, monkeypatch: pytest.MonkeyPatch):
    write_manifest(build_dir)
    monkeypatch.setenv(_native.OFF, "1")
    assert _native.native_path() is None
    monkeypatch.setenv(_native.OFF, "0")
    assert _native.native_path() == str(build_dir / "dealreg")


@pytest.mark.parametrize(("stage", "cause", "reason"), [
    ("c", SystemExit("error: command 'gcc' failed with exit code 1"),
     "the C build failed (error: command 'gcc' failed with exit code 1)"),
    ("mypyc", SystemExit(1), "mypyc refused the sources (1)"),
])
def test_a_failed_compile_leaves_a_manifest_that_says_why_and_exit_status_0(
        build_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        stage: str, cause: BaseException, reason: str):
    """Both mypyc and setuptools exit instead of raising; the build says which stage failed."""
    import mypyc.build
    import setuptools

    def fails(*args: object, **kwargs: object) -> object:
        raise cause

    monkeypatch.setattr(mypyc.build, "mypycify", fails if stage == "mypyc" else lambda *a, **k: [])
    monkeypatch.setattr(setuptools, "setup", fails)
    assert _native.build() == 0
    manifest = json.loads((build_dir / "manifest.json").read_text())
    assert manifest["compiled"] is False
    assert (manifest["stage"], manifest["reason"]) == (stage, reason)
    assert "runs interpreted" in capsys.readouterr().err
    assert _native.native_path() is None


def test_a_build_that_matches_the_sources_is_not_compiled_again(
        build_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`make` rebuilds when a file's time changes (a checkout); the bytes decide whether to compile."""
    def must_not_compile() -> None:
        raise AssertionError("compiled again")

    write_manifest(build_dir)
    monkeypatch.setattr(_native, "_compile", must_not_compile)
    assert _native.build() == 0
    assert "up to date" in capsys.readouterr().out
    assert _native.native_path() == str(build_dir / "dealreg")


def test_a_compiler_error_keeps_its_start_and_its_end():
    error = f"error: Command '['cc', {', '.join(['-Wall'] * 100)}, 'x.c']' failed with exit code 1"
    short = _native._shortened(error)
    assert len(short) == 160 + 3 + 100
    assert short.startswith("error: Command '['cc', -Wall") and short.endswith("'x.c']' failed with exit code 1")
    assert _native._shortened("error: command 'gcc' failed") == "error: command 'gcc' failed"


def test_the_compiled_core_is_in_use_wherever_it_can_be_built():
    """`make` compiles the core where a C compiler and mypyc are present (CI included): a
    type error that stopped mypyc would otherwise leave every run silently interpreted."""
    if PURE:
        assert not _native.is_compiled()
        return
    if shutil.which("cc") is None or importlib.util.find_spec("mypyc") is None:
        pytest.skip("no C compiler or no mypyc here: the package runs interpreted")
    assert _native.MANIFEST.exists(), "build/native is missing: `make test` builds it"
    manifest = json.loads(_native.MANIFEST.read_text())
    if not manifest["compiled"] and manifest.get("stage") in ("tools", "c"):
        pytest.skip(f"this machine cannot build C extensions ({manifest['reason']}): the package runs interpreted")
    assert manifest["compiled"], f"the core did not compile: {manifest.get('reason')}"
    assert manifest["sources"] == _native.source_hashes(), "build/native is older than the sources: `make test` rebuilds it"
    assert _native.is_compiled()


def both_cores(args: list[str]) -> list[str]:
    """`args` run once on the compiled core and once on the interpreted one: their outputs.
    Skipped where there is no up-to-date build, so a comparison never compares a core with itself."""
    manifest = _native._manifest()
    if not manifest or not manifest.get("compiled") or manifest.get("sources") != _native.source_hashes():
        pytest.skip("no up-to-date compiled build here: nothing to compare")
    outputs = []
    for pure, core in (("0", "True"), ("1", "False")):
        env = os.environ | {_native.OFF: pure}
        probe = subprocess.run([sys.executable, "-c", "import dealreg._native as n; print(n.is_compiled())"],
                               capture_output=True, text=True, env=env, cwd=ROOT, check=True)
        assert probe.stdout.strip() == core
        outputs.append(subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=True).stdout)
    return outputs


def test_compiled_and_interpreted_dealreg_check_write_the_same_bytes():
    compiled, interpreted = both_cores([
        sys.executable, "-m", "handlers.cli", "check", str(EXAMPLES / "prospects.csv"),
        "--registry", str(EXAMPLES / "registrations.csv"), "--rules", str(EXAMPLES / "rules.yaml"),
        "--as-of", "2026-11-20", "-o", "-"])
    assert compiled.count("\n") == 12  # the header and the 11 example rows
    assert compiled == interpreted


def test_compiled_and_interpreted_cores_decide_3000_messy_records_alike():
    """Every key and decision (status, owner, rule, reason, candidates, evidence …) for the
    labelled set's companies and queries typed worse at random, and for junk: the compiled
    modules must answer byte for byte as the interpreted ones (tests/core/native_diff.py)."""
    compiled, interpreted = both_cores([sys.executable, "-m", "tests.core.native_diff", "--seed", "7"])
    lines = compiled.splitlines()
    assert len(lines) == 3000
    statuses = {json.loads(line)["decision"]["status"] for line in lines if '"status"' in line}
    assert statuses == {"clear", "conflict", "duplicate", "needs_review", "rejected"}
    assert compiled == interpreted
