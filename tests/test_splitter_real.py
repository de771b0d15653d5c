"""The splitter keeps real documents whole: every word with its spacing, one block per
list item whatever its syntax, nothing numbered for invisible content, and numbers
that can be cited (issue 16, item 8)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.deflist import deflist_plugin

from consult.documents.render import render_markdown
from consult.documents.splitter import join, normalise, split, strip_tags

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
# Named, not globbed: a missing corpus must fail these tests, never leave them out.
CORPUS_FILES = [
    CORPUS / folder / f"v{n}.md"
    for folder, count in (
        ("de-vig-verbraucherinformationsgesetz", 4),
        ("fr-code-civil-titre-v-mariage", 5),
        ("us-https-only-standard-m-15-13", 4),
        ("us-digital-services-playbook", 4),
        ("us-open-data-metadata-schema-v1", 5),
    )
    for n in range(1, count + 1)
]

# What a browser would show: the Markdown rendered WITH raw HTML (the product never does
# this; here it is only the yardstick), read back as text.
_BROWSER = MarkdownIt("commonmark", {"html": True}).enable("table").use(deflist_plugin)
_LINE_BREAKING = set(
    re.findall(
        r"\w+",
        "address article aside blockquote br caption dd div dl dt figcaption figure footer "
        "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th "
        "thead tr ul",
    )
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _LINE_BREAKING:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _LINE_BREAKING:
            self.parts.append(" ")

    def handle_data(self, data):
        self.parts.append(data)


def browser_words(markdown: str) -> list[str]:
    """The words a reader sees, in order; kramdown attribute lists are not shown."""
    parser = _Text()
    parser.feed(_BROWSER.render(normalise(markdown)))
    parser.close()
    return re.sub(r"\{:[^{}]*\}", " ", "".join(parser.parts)).split()


def block_words(blocks) -> list[str]:
    return " ".join(b.text for b in blocks).split()


def citable(number: str) -> bool:
    parts = number.split(".")
    if number.startswith("0."):
        return len(parts) == 2 and parts[1] != "0"  # the preamble: 0.1, 0.2 …
    return all(p.isdigit() and p != "0" for p in parts)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_texts_keep_every_word_and_come_back_whole(path):
    text = path.read_text(encoding="utf-8")
    blocks = split(text)
    assert join(blocks) == normalise(text)
    # Same words, same spacing: two words glued together, or one split, would differ.
    assert block_words(blocks) == browser_words(text)
    assert all(b.text for b in blocks if b.kind not in ("code", "rule")), [
        (b.number, b.source[:40]) for b in blocks if not b.text
    ]
    numbers = [b.number for b in blocks if b.number]
    assert all(citable(n) for n in numbers), [n for n in numbers if not citable(n)]
    assert len(numbers) == len(set(numbers))
    # A block alone is that block again: editing a paragraph gives back one paragraph.
    for b in blocks:
        (again,) = split(b.source)
        assert (again.kind, again.text) == (b.kind, b.text)


def test_kramdown_attribute_lines_make_no_paragraph():
    path = CORPUS / "us-open-data-metadata-schema-v1" / "v3.md"
    text = path.read_text(encoding="utf-8")
    standalone = sum(1 for line in text.splitlines() if re.fullmatch(r"\{:[^{}]*\}", line))
    assert standalone > 10
    blocks = split(text)
    assert not [b for b in blocks if re.fullmatch(r"\{:[^{}]*\}", b.source)]
    # Each attribute line rides with a neighbour, and stays out of the plain text.
    carried = sum(len(re.findall(r"^\{:[^{}]*\}$", b.source, re.M)) for b in blocks)
    assert carried == standalone
    assert not any("{:" in b.text for b in blocks)


def test_indented_passages_inside_definitions_keep_their_words():
    # Pandoc's indentation makes these sub-items code inside a definition; they are law text.
    path = CORPUS / "de-vig-verbraucherinformationsgesetz" / "v1.md"
    blocks = split(path.read_text(encoding="utf-8"))
    assert any("bb) die Vertraulichkeit der Beratung" in b.text for b in blocks)


# ---------------------------------------------------------------- <br> and other tags


@pytest.mark.parametrize("br", ["<br>", "<br/>", "<br />", "<BR>", "<Br />"])
def test_a_line_break_tag_keeps_the_words_apart(br):
    text = f"Memorandum M-15-13{br}Policy to Require Secure Connections\n"
    (block,) = split(text)
    assert block.text == "Memorandum M-15-13 Policy to Require Secure Connections"
    assert join([block]) == text
    assert "M-15-13Policy" not in render_markdown(block.source)


def test_a_line_break_tag_in_a_table_cell_keeps_the_words_apart():
    text = "| Memo | Title |\n|---|---|\n| M-15-13<br>Policy | Secure<br/>connections |\n"
    (table,) = split(text)
    assert table.kind == "table"
    assert table.text.split("\n") == ["Memo", "Title", "M-15-13 Policy", "Secure connections"]
    assert block_words([table]) == browser_words(text)


def test_block_tags_separate_words_and_inline_tags_vanish():
    text = (
        '<div class="note">Read<p>this</p>now, <a href="#x">the <em>whole</em></a> '
        "<span>text</span>.</div>\n"
    )
    (block,) = split(text)
    assert block.text == "Read this now, the whole text."
    assert block_words([block]) == browser_words(text)


def test_tags_written_as_text_stay_text():
    (block,) = split("Use &lt;br&gt; or `<br>` or \\<br> for a new line.\n")
    assert block.text == "Use <br> or <br> or <br> for a new line."


def test_tags_never_pass_through_when_rendered():
    html = render_markdown('<ol>\n<li onclick="x()">One<script>alert(1)</script></li>\n</ol>')
    assert "<script" not in html and "onclick" not in html and "<li" not in html


# ---------------------------------------------------------------- HTML lists


def test_html_list_gives_one_block_per_item():
    text = (
        "The agencies must:\n"
        "<ol>\n"
        "<li>publish the data;</li>\n"
        "<li>describe it\n"
        "in the catalogue;</li>\n"
        '<li class="last">keep it current.</li>\n'
        "</ol>\n"
        "\n"
        "Then they report.\n"
    )
    blocks = split(text)
    assert [(b.kind, b.text) for b in blocks] == [
        ("paragraph", "The agencies must:"),
        ("list_item", "publish the data;"),
        ("list_item", "describe it in the catalogue;"),
        ("list_item", "keep it current."),
        ("paragraph", "Then they report."),
    ]
    # The wrapper lines belong to the first and the last item, so the text comes back.
    assert blocks[1].source == "<ol>\n<li>publish the data;</li>"
    assert blocks[3].source == '<li class="last">keep it current.</li>\n</ol>'
    assert join(blocks) == text
    assert block_words(blocks) == browser_words(text)
    # Each item stands alone, as it would when edited.
    assert [split(b.source)[0].text for b in blocks[1:4]] == [b.text for b in blocks[1:4]]


def test_html_list_indented_items_and_blank_lines():
    indented = "<ul>\n    <li>One</li>\n    <li>Two</li>\n</ul>\n"
    blocks = split(indented)
    assert [(b.kind, b.text) for b in blocks] == [("list_item", "One"), ("list_item", "Two")]
    assert join(blocks) == indented
    (alone,) = split(blocks[1].source)  # an indented item alone is no code block
    assert (alone.kind, alone.text) == ("list_item", "Two")
    assert "<pre>" not in render_markdown(blocks[1].source)

    spaced = "<ol>\n\n<li>First</li>\n\n<li>Second</li>\n\n</ol>\n\nAfter.\n"
    blocks = split(spaced)
    assert [(b.kind, b.text) for b in blocks] == [
        ("list_item", "First"),
        ("list_item", "Second"),
        ("paragraph", "After."),
    ]
    assert join(blocks) == spaced


def test_nested_html_list_stays_inside_its_item():
    text = (
        "<ul>\n<li>Fruit\n<ul>\n<li>apples</li>\n<li>pears</li>\n</ul>\n</li>\n"
        "<li>Bread</li>\n</ul>\n"
    )
    blocks = split(text)
    assert [b.text for b in blocks] == ["Fruit apples pears", "Bread"]
    assert join(blocks) == text


def test_several_items_on_one_line_stay_together():
    # Cutting the line in two would change the text when the blocks are joined again.
    text = (
        "<ul><li>alpha</li><li>beta</li></ul>\n"
        "<ul>\n<li>gamma</li><li>delta</li>\n<li>eps</li>\n</ul>\n"
    )
    blocks = split(text)
    assert [(b.kind, b.text) for b in blocks] == [
        ("list_item", "alpha beta"),
        ("list_item", "gamma delta"),
        ("list_item", "eps"),
    ]
    assert join(blocks) == text


def test_markdown_and_html_lists_both_give_items():
    text = "- one\n- two\n\n<ul>\n<li>three</li>\n<li>four</li>\n</ul>\n"
    blocks = split(text)
    assert [(b.kind, b.text) for b in blocks] == [
        ("list_item", w) for w in ("one", "two", "three", "four")
    ]


# ---------------------------------------------------------------- invisible content


def test_html_comment_makes_no_paragraph():
    text = (
        "First paragraph.\n\n<!--\nNote to the drafters\n\n# not a heading\n- nor a list\n-->\n\n"
        "Second <!-- inline note --> paragraph.\n"
    )
    blocks = split(text)
    assert [b.text for b in blocks] == ["First paragraph.", "Second paragraph."]
    assert blocks[0].source.endswith("- nor a list\n-->")
    assert join(blocks) == text
    assert "drafters" not in render_markdown(blocks[0].source)
    assert "inline note" not in render_markdown(blocks[1].source)


def test_comment_at_the_top_goes_with_the_first_block():
    text = "<!-- generated: do not edit -->\n\n# Title\n\n## One\n\nText.\n"
    blocks = split(text)
    assert [(b.number, b.kind, b.text) for b in blocks] == [
        ("", "heading", "Title"),
        ("1", "heading", "One"),
        ("1.1", "paragraph", "Text."),
    ]
    assert join(blocks) == text


def test_comment_inside_code_is_code():
    text = "```html\n<!-- shown: this is an example -->\n```\n"
    (block,) = split(text)
    assert block.kind == "code" and "shown: this is an example" in block.text


def test_unclosed_comment_hides_nothing():
    (block,) = split("<!-- oops\n\nStill here.\n")[-1:]
    assert "Still here." in block.text


def test_attribute_lines_wrappers_and_link_definitions_make_no_paragraph():
    text = (
        '<div class="box">\n\n'
        "A boxed paragraph with [a link][ref].\n\n"
        "</div>\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "{: .table .table-striped}\n\n"
        "[ref]: https://example.org\n\n"
        '<a name="anchor"></a>\n\n'
        "Last words.\n"
    )
    blocks = split(text)
    assert [(b.kind, b.text) for b in blocks] == [
        ("paragraph", "A boxed paragraph with [a link][ref]."),
        ("table", "a\nb\n1\n2"),
        ("paragraph", "Last words."),
    ]
    assert blocks[0].source.startswith('<div class="box">')  # an opening tag goes forward
    assert blocks[0].source.endswith("</div>")  # a closing one goes back
    assert blocks[1].source.endswith('<a name="anchor"></a>')
    assert join(blocks) == text


def test_text_without_words_gives_no_blocks():
    assert split("<!-- nothing to read -->\n") == []
    assert split("{: .note}\n") == []


# ---------------------------------------------------------------- numbers


def test_skipped_heading_levels_give_citable_numbers():
    text = (
        "# Title\n\n## Play 1\n\n#### checklist\n\n- item\n\n#### key questions\n\nWhy?\n\n"
        "## Play 2\n\n### Part\n\n##### Deep\n\nText.\n\n#### Less deep\n\nMore.\n\n"
        "## Play 3\n\nEnd.\n"
    )
    blocks = split(text)
    assert [b.number for b in blocks] == [
        "",
        "1",
        "1.1",
        "1.1.1",
        "1.2",
        "1.2.1",
        "2",
        "2.1",
        "2.1.1",
        "2.1.1.1",
        "2.1.2",
        "2.1.2.1",
        "3",
        "3.1",
    ]


def test_depth_comes_from_the_headings_open_above():
    # A deeper heading before any shallower one is still a top-level section, and a
    # heading that climbs back out closes every deeper one.
    blocks = split("Intro.\n\n### Early\n\nA.\n\n## Main\n\nB.\n\n#### Sub\n\nC.\n\n# Top\n\nD.\n")
    assert [b.number for b in blocks] == ["0.1", "1", "1.1", "2", "2.1", "2.2", "2.2.1", "3", "3.1"]
    assert all(citable(b.number) for b in blocks)


def test_strip_tags_keeps_line_structure():
    assert strip_tags("a<!--\nx\n-->b") == "a\n\nb"
    assert strip_tags("x<br>y<em>z</em>") == "x yz"
