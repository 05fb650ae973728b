"""The documentation stays true: the command reference matches the parser, the library page's examples
run and print what the page shows, every link inside the project resolves, none leaves it."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
from pathlib import Path

import pytest

from kyphoangle.cli.reference import render_cli_reference
from kyphoangle.demo import generate_demo_films

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
PAGES_WRITTEN_WITH_THE_ACCESS_POLICY = {DOCS / "access.md"}
"""Linked already; the page itself comes with the role access policy."""


def test_the_command_reference_matches_the_program() -> None:
    assert (DOCS / "cli.md").read_text() == render_cli_reference(), (
        "docs/cli.md is stale: run `python -m kyphoangle.cli.reference docs/cli.md`"
    )


def _examples(page: Path) -> list[tuple[str, str]]:
    """(python code, the text block shown right after it) pairs of a page."""
    blocks = re.findall(r"```(python|text)\n(.*?)```", page.read_text(), flags=re.DOTALL)
    pairs = []
    for (kind, code), (next_kind, output) in itertools.pairwise(blocks):
        if kind == "python" and next_kind == "text":
            pairs.append((code, output))
    return pairs


def test_the_library_page_examples_print_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_demo_films(tmp_path / "films", subjects=1)  # what `python -m kyphoangle.demo films` writes
    monkeypatch.chdir(tmp_path)
    examples = _examples(DOCS / "api.md")
    assert len(examples) >= 4
    namespace: dict[str, object] = {}
    for code, shown in examples:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "docs/api.md", "exec"), namespace)
        assert printed.getvalue() == shown, code
    assert (tmp_path / "moved.json").is_file()


def test_links_resolve_inside_the_project() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            resolved = (page.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), f"{page.name} links outside the project: {target}"
            if resolved in PAGES_WRITTEN_WITH_THE_ACCESS_POLICY:
                continue
            assert resolved.exists(), f"{page.relative_to(ROOT)}: broken link {target}"


def test_the_readme_keeps_its_two_commands_and_sends_readers_to_docs_only() -> None:
    text = (ROOT / "README.md").read_text()
    assert text.split("```sh\n", 1)[1].startswith(
        "./scripts/run_demo.sh    # set up, build the demo study on first use, open the reading workstation\n"
        "./scripts/check.sh       # set up and run every test and check"
    )
    assert "../" not in text and "shared/" not in text
    for page in PAGES:
        assert "DOMAIN.md" not in page.read_text(), page


def test_the_guides_show_the_screenshots_the_tests_take() -> None:
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", "".join(p.read_text() for p in DOCS.rglob("*.md")))
    assert len(images) >= 6
    for image in images:
        assert image.startswith("../images/") and (DOCS / "images" / Path(image).name).is_file(), image
    assert os.path.getsize(DOCS / "images" / "adjudicator-compare.png") < 400_000
