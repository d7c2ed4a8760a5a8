"""Docs that tests keep true: every relative link in README.md and docs/*.md opens a file of this
repository, and a link to a heading (`page.md#heading`) finds that heading, spelt the way GitHub
spells its anchors. A page that moved, a heading that was renamed, or a path outside the
repository (`../shared/…`, which only exists on the machine it was written on) fails here."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def prose(text: str) -> str:
    """The page without its code blocks and code spans: `[x](y)` there is code, not a link."""
    kept, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            kept.append(line)
    return re.sub(r"`[^`]*`", "", "\n".join(kept))


def links(page: Path) -> list[str]:
    return [target for target in LINK.findall(prose(page.read_text(encoding="utf-8")))
            if not re.match(r"[a-z][a-z0-9+.-]*:", target)]  # http:, https:, mailto: are not files


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (github-slugger): lower case, punctuation and symbols dropped,
    each space a hyphen. `## Typeform refs → fields` is `#typeform-refs--fields`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    kept = "".join(c for c in text if c.isalnum() or c in " -_" or unicodedata.category(c).startswith("M"))
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor; a repeated heading gets -1, -2 … as on GitHub."""
    seen: dict[str, int] = {}
    out = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            out.add(base if count == 0 else f"{base}-{count}")
    return out


@pytest.mark.parametrize("heading, anchor", [
    ("## Typeform refs → fields", "typeform-refs--fields"),
    ("## `dealreg check`: the batch suppression pass", "dealreg-check-the-batch-suppression-pass"),
    ("## 2. Secrets and settings, in SSM Parameter Store (once per stage)",
     "2-secrets-and-settings-in-ssm-parameter-store-once-per-stage"),
    ("### A registration: at most 3 API calls (the Sheets API has no compare-and-set)",
     "a-registration-at-most-3-api-calls-the-sheets-api-has-no-compare-and-set"),
    ("## Dependencies, and why each is there", "dependencies-and-why-each-is-there"),
])
def test_anchors_are_spelt_as_github_spells_them(tmp_path, heading, anchor):
    page = tmp_path / "page.md"
    page.write_text(f"# Title\n\n{heading}\n", encoding="utf-8")
    assert anchor in anchors(page)


def broken_links(page: Path, root: Path) -> list[str]:
    """What is wrong with each relative link of `page`: outside `root`, no such file, no such heading."""
    problems = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.is_relative_to(root):
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{target}: no heading #{anchor} in {resolved.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_opens_a_file_of_the_repository(page):
    assert broken_links(page, ROOT) == []


def test_the_link_check_finds_what_is_broken(tmp_path):
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "numbers.md").write_text("# Numbers\n\n## Deal values\n", encoding="utf-8")
    page = root / "docs" / "page.md"
    page.write_text("[ok](numbers.md#deal-values) [gone](nowhere.md) [out](../../shared/reference/integrations.md)\n"
                    "[anchor](numbers.md#no-such-heading) `[code](not-a-link.md)` [web](https://example.com)\n"
                    "[here](#page) [there](#elsewhere)\n\n# Page\n\n```\n[fenced](not-a-link.md)\n```\n",
                    encoding="utf-8")
    assert broken_links(page, root) == [
        "nowhere.md: no such file",
        "../../shared/reference/integrations.md: outside the repository",
        "numbers.md#no-such-heading: no heading #no-such-heading in numbers.md",
        "#elsewhere: no heading #elsewhere in page.md",
    ]


def test_every_page_of_the_docs_is_linked():
    linked = {(page.parent / target.partition("#")[0]).resolve()
              for page in PAGES for target in links(page) if target.partition("#")[0]}
    orphans = [page.name for page in PAGES[1:] if page not in linked]
    assert not orphans, f"no page links {orphans}: link them from the README or a page it links"


NAMING_DOCS = [ROOT / "serverless.yml", ROOT / "config" / "rules.example.yaml", ROOT / "examples" / "rules.yaml",
               *(path for package in ("dealreg", "handlers", "integrations", "config")
                 for path in sorted((ROOT / package).rglob("*.py")))]


@pytest.mark.parametrize("source", NAMING_DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_page_the_code_and_config_name_exists(source):
    """serverless.yml once sent its reader to docs/DEPLOY.md, which never existed."""
    named = re.findall(r"\bdocs/[\w.-]+\.md\b", source.read_text(encoding="utf-8"))
    assert [page for page in named if not (ROOT / page).is_file()] == []
