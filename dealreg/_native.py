"""The compiled core: the same Python modules, compiled to C extensions by mypyc.

`make` builds them (`dealreg._native.build()`) into build/native/ beside the sources, never
among them, and writes a manifest with a hash of every source file of the package. On import,
`dealreg/__init__.py` asks `native_path()` whether to put that directory first on the
package's path: only when the manifest matches the sources byte for byte, so an edited
source is never shadowed by an older compiled copy (it runs interpreted, with a warning,
until `make` rebuilds). Anywhere without a build (AWS Lambda, a machine without a C
compiler) the package is plain Python and behaves the same; the test suite runs both ways.

DEALREG_PURE_PYTHON=1 turns the compiled modules off.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
BUILD = PACKAGE.parent / "build" / "native"  # build/native/dealreg/*.so, build/native/manifest.json
MANIFEST = BUILD / "manifest.json"
# Compiled: where a registry's keys are made and indexed and a decision is taken. The other
# modules hold data types and text, and gain little.
MODULES = ("normalise", "match", "engine")
GROUP = "dealreg.native"  # mypyc's shared runtime: dealreg/native__mypyc.*.so, inside the package
OFF = "DEALREG_PURE_PYTHON"


def source_hashes() -> dict[str, str]:
    """sha256 of every Python source of the package: compiled code reads the types of the
    modules it imports (field order included), so any change makes a build stale."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(PACKAGE.glob("*.py"))}


def native_path() -> str | None:
    """The directory of a usable compiled build, or None (interpreted). Warns once on
    stderr when a build exists but no longer matches the sources."""
    if os.environ.get(OFF, "").strip() not in ("", "0"):
        return None
    manifest = _manifest()  # None: never built (Lambda, a fresh clone before `make`)
    if manifest is None or not manifest.get("compiled") or manifest.get("python") != _python():
        return None
    if manifest.get("sources") != source_hashes():
        print("dealreg: the compiled core in build/native is older than the sources; running "
              "interpreted (`make install` rebuilds it)", file=sys.stderr)
        return None
    return str(BUILD / "dealreg")


def is_compiled() -> bool:
    """Whether the decision modules running now are the compiled ones."""
    from dealreg import engine, match, normalise

    return all(not m.__file__ or not m.__file__.endswith(".py") for m in (normalise, match, engine))


def _python() -> str:
    return f"{sys.implementation.cache_tag}-{sys.platform}"


def build() -> int:
    """Compile MODULES into build/native and write the manifest. Without a C compiler or
    mypyc the manifest records why, and the package stays interpreted: exit status 0 either
    way, since the compiled core is an optimisation, never a requirement."""
    start = time.perf_counter()
    sources = source_hashes()
    manifest: dict[str, object] = {"python": _python(), "sources": sources, "compiled": False}
    if _built_from(sources):
        MANIFEST.touch()  # a file's time changed, not its bytes (a checkout): nothing to do
        print("dealreg: the compiled core is up to date")
        return 0
    BUILD.mkdir(parents=True, exist_ok=True)
    MANIFEST.unlink(missing_ok=True)  # a half-done build is never taken for a good one
    try:
        _compile()
    except NotCompiled as exc:
        manifest["stage"], manifest["reason"] = exc.stage, _shortened(str(exc))
        print(f"dealreg: not compiled ({manifest['reason']}); the package runs interpreted", file=sys.stderr)
    else:
        if source_hashes() != sources:
            manifest["reason"] = "a source changed during the build"
        else:
            manifest["compiled"] = True
            print(f"dealreg: compiled {', '.join(MODULES)} with mypyc in {time.perf_counter() - start:.0f} s")
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


def _shortened(text: str, head: int = 160, tail: int = 100) -> str:
    """A compiler's error without the middle of its command line, which names every flag."""
    return text if len(text) <= head + tail + 3 else f"{text[:head]} … {text[-tail:]}"


def _manifest() -> dict[str, object] | None:
    try:
        manifest = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _built_from(sources: dict[str, str]) -> bool:
    manifest = _manifest()
    return (manifest is not None and bool(manifest.get("compiled")) and manifest.get("python") == _python()
            and manifest.get("sources") == sources)


class NotCompiled(Exception):
    """Why the core was not compiled, and at which stage: "tools" (mypyc or setuptools
    missing), "mypyc" (it refused the sources: a type error, a bug of ours) or "c" (no C
    compiler or Python headers on this machine)."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage


def _compile() -> None:
    import shutil
    import tempfile

    try:
        from mypyc.build import mypycify
        from setuptools import setup  # type: ignore[import-untyped]
    except ImportError as exc:
        raise NotCompiled("tools", f"{exc.name} is not installed") from None
    out = BUILD / "dealreg"
    shutil.rmtree(out, ignore_errors=True)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="dealreg-native-") as temp:
        os.chdir(PACKAGE.parent)  # mypyc names modules by their path from here: dealreg/match.py -> dealreg.match
        try:
            try:  # type-checks the sources and writes the C; both exit rather than raise on an error
                extensions = mypycify([f"dealreg/{m}.py" for m in MODULES], opt_level="3", group_name=GROUP,
                                      target_dir=str(Path(temp) / "c"))
            except (Exception, SystemExit) as exc:
                raise NotCompiled("mypyc", f"mypyc refused the sources ({exc or type(exc).__name__})") from None
            try:
                setup(name="dealreg-native", ext_modules=extensions, script_args=[
                    "--quiet", "build_ext", "--build-lib", str(BUILD), "--build-temp", str(Path(temp) / "o")])
            except (Exception, SystemExit) as exc:
                raise NotCompiled("c", f"the C build failed ({exc or type(exc).__name__})") from None
        finally:
            os.chdir(cwd)
    missing = [m for m in (*MODULES, "native__mypyc") if not list(out.glob(f"{m}.*"))]
    if missing:
        raise NotCompiled("c", f"no compiled module for {', '.join(missing)}")

