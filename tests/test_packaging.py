"""The package builds quietly: `make run` and `make test` install it editable on a fresh
machine, and setuptools must have nothing to warn about (it printed ~40 lines of
BuildBackendWarning about `dealreg.data` before). The build runs offline, on a copy of
the project, with the setuptools of this environment."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("pyproject.toml", "README.md", "dealreg", "handlers", "integrations", "config")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in SHIPPED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        else:
            shutil.copy2(source, copy / name)
    return copy


def build(project: Path, hook: str, out: Path) -> subprocess.CompletedProcess[str]:
    """Run one PEP 517 hook of setuptools the way pip does, in a process of its own."""
    code = f"import setuptools.build_meta as backend; print(backend.{hook}({str(out)!r}))"
    return subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("hook", ["build_editable", "build_wheel"])
def test_the_build_prints_no_warning(project, tmp_path, hook):
    result = build(project, hook, tmp_path / "dist")
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr


def test_the_wheel_ships_the_data_files_and_the_packages(project, tmp_path):
    result = build(project, "build_wheel", tmp_path / "dist")
    assert result.returncode == 0, result.stderr
    wheel = tmp_path / "dist" / result.stdout.strip().splitlines()[-1]
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in (ROOT / "dealreg" / "data").iterdir():
        assert f"dealreg/data/{data.name}" in names  # read by dealreg.normalise at import
    assert "config/rules.example.yaml" in names
    assert {name.split("/")[0] for name in names if not name.startswith("dealreg-")} == {
        "dealreg", "handlers", "integrations", "config"}  # no tests/, bench/ or examples/


def test_the_wheel_ships_every_module_of_the_packages(project, tmp_path):
    """pyproject.toml lists the packages one by one: a subpackage it leaves out (integrations/sheets/,
    handlers/cli/) is missing from a non-editable install, while an editable one still works."""
    result = build(project, "build_wheel", tmp_path / "dist")
    assert result.returncode == 0, result.stderr
    wheel = tmp_path / "dist" / result.stdout.strip().splitlines()[-1]
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("dealreg", "handlers", "integrations", "config"):
        for module in sorted((ROOT / package).rglob("*.py")):
            assert module.relative_to(ROOT).as_posix() in names
