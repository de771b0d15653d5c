"""Markdown → paragraphs: kinds, numbering, plain text and the exact round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from consult.documents.render import render_markdown
from consult.documents.splitter import join, normalise, split

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
# Named, not globbed: a missing corpus must fail these tests, never leave them out.
CORPUS_FILES = [
    CORPUS / folder / f"v{n}.md"
    for folder, count in (
        ("de-vig-verbraucherinformationsgesetz", 4),
        ("fr-code-civil-titre-v-mariage", 5),
        ("us-https-only-standard-m-15-13", 4),
    )
    for n in range(1, count + 1)
]


def test_corpus_is_there():
    # The real texts are the point of several tests; their absence must fail, not skip.
    assert all(p.is_file() for p in CORPUS_FILES), (
        f"the corpus belongs beside the repository: {CORPUS}"
    )


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_round_trip_on_real_texts(path):
    text = path.read_text(encoding="utf-8")
    blocks = split(text)
    assert len(blocks) > 20
    assert join(blocks) == normalise(text)
    numbers = [b.number for b in blocks if b.number]
    assert len(numbers) == len(set(numbers)), "display numbers must be unique"
    assert all(b.text for b in blocks if b.kind != "rule")


def test_kinds_and_numbers():
    text = (
        "# Title\n\nIntro words.\n\n## Principles\n\nFirst paragraph.\n\n- item one\n- item two\n\n"
        "### Detail\n\n> a quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## Roadmap\n\nLast.\n"
    )
    blocks = split(text)
    assert [(b.number, b.kind) for b in blocks] == [
        ("", "heading"),
        ("0.1", "paragraph"),
        ("1", "heading"),
        ("1.1", "paragraph"),
        ("1.2", "list_item"),
        ("1.3", "list_item"),
        ("1.4", "heading"),
        ("1.4.1", "blockquote"),
        ("1.4.2", "table"),
        ("2", "heading"),
        ("2.1", "paragraph"),
    ]
    assert blocks[4].source == "- item one"
    assert blocks[5].blank_before == 0  # a tight list keeps its items together
    assert join(blocks) == text


def test_hard_wrapped_lines_give_one_paragraph_of_plain_text():
    blocks = split("Les mineurs ne peuvent contracter\nmariage sans le consentement.\n")
    assert len(blocks) == 1
    assert blocks[0].text == "Les mineurs ne peuvent contracter mariage sans le consentement."


def test_definition_lists_are_one_block_per_term():
    path = CORPUS / "de-vig-verbraucherinformationsgesetz" / "v1.md"
    blocks = split(path.read_text(encoding="utf-8"))
    assert blocks[1].kind == "definition"
    assert blocks[1].text == "Ausfertigungsdatum\n2007-11-05"


def test_inline_html_is_dropped_from_text_and_never_rendered():
    path = CORPUS / "us-https-only-standard-m-15-13" / "v1.md"
    goal = next(b for b in split(path.read_text(encoding="utf-8")) if "web services [1]" in b.text)
    assert "<a" not in goal.text and "footnote-source" not in goal.text
    html = render_markdown(goal.source)
    assert "<a class" not in html and "footnote-source" not in html


def test_rendering_escapes_raw_html_and_scripts():
    html = render_markdown("Hello <script>alert(1)</script> [x](javascript:alert(1)) **bold**")
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "<strong>bold</strong>" in html


def test_line_endings_and_empty_text():
    assert split("") == []
    assert split("\n\n  \n") == []
    blocks = split("One.\r\n\r\nTwo.\r\n")
    assert [b.text for b in blocks] == ["One.", "Two."]
