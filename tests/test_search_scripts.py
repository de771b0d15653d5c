"""Search in scripts written without spaces: Thai, Khmer, Lao and Burmese.

The test set (tests/data/scripts/*.json) holds real sentences of each script (the
Universal Declaration of Human Rights, articles 1-10 and the preamble's first
paragraph, from the UDHR in Unicode project; the source is in each file) and words
that must be found. Every sentence is indexed twice, as a paragraph of a published
version and as a comment on it; each word is searched for, and every paragraph and
comment that holds it as a word must be found (recall >= 0.95 per script, on each
backend). A word also occurs inside longer words that mean something else (Lao
"human" inside "humane"): those occurrences are listed in the file under
"inside_other_words" and not expected.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app

from consult.consultation import services as cs
from consult.documents import services as docs
from consult.extensions import db
from consult.search import backend, query, segment, whoosh_backend
from consult.search.service import SearchParams, search
from consult.timeutil import utcnow

DATA = Path(__file__).parent / "data" / "scripts"
SCRIPTS = ("th", "km", "lo", "my")
RECALL = 0.95


def load(lang: str) -> dict:
    return json.loads((DATA / f"{lang}.json").read_text(encoding="utf-8"))


def expected(data: dict, word: str) -> list[int]:
    """Indexes of the sentences that hold `word` as a word of their own."""
    out = []
    for i, text in enumerate(data["paragraphs"]):
        for longer in data.get("inside_other_words", {}).get(word, []):
            text = text.replace(longer, "")
        if word in text:
            out.append(i)
    return out


@pytest.fixture(params=["whoosh", pytest.param("postgres", marks=pytest.mark.postgres)])
def scripts_world(request, app, make_user):
    """Every sentence of the test set as a paragraph and as a comment, indexed by the
    backend of the parameter: ({lang: data}, {lang: {"paragraph"|"comment": [ids]}})."""
    previous = app.config["SEARCH_BACKEND"]
    app.config["SEARCH_BACKEND"] = request.param
    sec = make_user("secretariat")
    member = make_user("cso")
    sets = {lang: load(lang) for lang in SCRIPTS}
    text = "# UDHR\n\n" + "\n\n".join(p for lang in SCRIPTS for p in sets[lang]["paragraphs"])
    doc = docs.create_document("udhr", "UDHR", by=sec)
    version = docs.import_version(doc, text, by=sec, label="Scripts")
    docs.publish(version, by=sec, closes_at=utcnow() + timedelta(days=7))
    db.session.commit()
    paragraphs = {p.text: p.id for p in version.paragraphs}
    comments: dict[str, list] = {}
    for lang in SCRIPTS:
        comments[lang] = [
            cs.post_comment(
                version=version,
                paragraph=None,
                organisation=member.organisation,
                kind="comment",
                body=sentence,
                by=member,
            )
            for sentence in sets[lang]["paragraphs"]
        ]
    db.session.commit()  # indexed after the commit, as a page's request does
    ids = {
        lang: {
            "paragraph": [paragraphs[p] for p in sets[lang]["paragraphs"]],
            "comment": [c.id for c in comments[lang]],
        }
        for lang in SCRIPTS
    }
    yield sets, ids
    app.config["SEARCH_BACKEND"] = previous


def recall(sets, ids, lang: str) -> tuple[float, list[str]]:
    data, found_pairs, pairs, missed = sets[lang], 0, 0, []
    for word in data["words"]:
        want = expected(data, word)
        assert want, f"{word} is in no sentence of {lang}"
        for kind in ("paragraph", "comment"):
            res = search(SearchParams(q=word, filters={"type": [kind]}, per_page=100))
            got = {h.object_id for h in res.hits}
            for i in want:
                pairs += 1
                if ids[lang][kind][i] in got:
                    found_pairs += 1
                else:
                    missed.append(f"{word} ({kind} {i})")
    return found_pairs / pairs, missed


def test_words_inside_unspaced_sentences_are_found(scripts_world):
    sets, ids = scripts_world
    name = backend.get(current_app).name
    scores = {}
    for lang in SCRIPTS:
        scores[lang], missed = recall(sets, ids, lang)
        print(f"{lang} recall {scores[lang]:.3f} on {name}; missed {missed}")
    assert all(score >= RECALL for score in scores.values()), scores

    # What a hit shows: the word marked, no separator of the PostgreSQL backend's text.
    res = search(SearchParams(q="เสรีภาพ", filters={"type": ["comment"]}))
    assert res.hits
    snippet = res.hits[0].snippet
    assert "<mark>เสรีภาพ</mark>" in snippet and segment.SEP not in snippet
    # A phrase of Khmer words; a Lao word excluded.
    res = search(SearchParams(q='"សេរីភាព និង សមភាព"', filters={"type": ["paragraph"]}))
    assert [h.object_id for h in res.hits] == [ids["km"]["paragraph"][1]]
    every = search(SearchParams(q="ບຸກຄົນ", filters={"type": ["comment"]})).total
    fewer = search(SearchParams(q="ບຸກຄົນ -ສານ", filters={"type": ["comment"]})).total
    assert 0 < fewer < every


def test_words_keep_their_combining_marks():
    # Python's \w leaves out Thai vowel signs and Khmer subscripts: a word is not cut there.
    assert segment.words("สิทธิ") == ["สิทธิ"]
    assert query.parse("สิทธิ").groups == [(query.Term("สิทธิ"),)]
    assert query.parse("ภาษาไทย").groups == [(query.Phrase(("ภาษา", "ไทย")),)]
    assert whoosh_backend.analyse("Hearings on สิทธิมนุษยชน") == ["hear", "สิทธิ", "มนุษย", "ชน"]
    # English is read as before.
    assert whoosh_backend.analyse("Civil society's e-mail hearings") == [
        "civil",
        "societi",
        "mail",
        "hear",
    ]
    # The PostgreSQL backend's stored text: separators between the words only, removable.
    text = "Rights: ทุกคนมีสิทธิ"
    assert segment.spaced(text) == "Rights: ทุก\x1fคน\x1fมี\x1fสิทธิ"
    assert segment.unspaced(segment.spaced(text)) == text
    assert segment.spaced("plain English") == "plain English"
    # Text and queries are compared in normal form C: a Vietnamese word typed with
    # combining accents is the same word as the precomposed one.
    decomposed = "Vie\u0302\u0323t Nam"
    assert segment.spaced(decomposed) == "Việt Nam"
    assert query.parse(decomposed).groups == [(query.Term("Việt"),), (query.Term("Nam"),)]
    assert whoosh_backend.analyse(decomposed) == whoosh_backend.analyse("Việt Nam")
