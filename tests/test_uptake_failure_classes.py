"""The classes of failure that uptake and provenance showed on real drafting histories
(issue 16), each pinned by a small case: credit for removed paragraphs, deletions that
outweighed insertions, suggestions that change nothing, influence credited to a
suggestion that was not taken up, phrases that landed in another paragraph, and
markup-only suggestions."""

from __future__ import annotations

import re

import pytest

from consult.consultation.models import Comment
from consult.consultation.wording import asks_change, basis, plain_wording
from consult.documents import services as docs
from consult.errors import ConsultError
from consult.extensions import db
from consult.tracing.models import StoredUptake
from consult.tracing.uptake import VersionWords, asked_insertions, uptake

from .conftest import assert_error, bearer, count, post_comment

# ------------------------------------------------------------------ the pure measure


def test_deleting_words_of_a_paragraph_that_was_then_replaced_is_not_taken_up():
    # Class 1: the suggestion asks to drop "where possible"; the next version replaces
    # the whole paragraph with another text. Every asked deletion is "gone", but the
    # paragraph is not recognisably there: nothing of what was asked can be seen.
    original = "The secretariat shall, where possible, publish the comments it receives."
    suggested = "The secretariat shall publish the comments it receives."
    rewritten = "Each committee decides by vote how its hearings are announced to the press."
    up = uptake(original, suggested, rewritten)
    assert up.label == "not_taken_up"
    assert up.evidence["deletions"] == "not_recognisable"
    # Where the paragraph is still there and the words went, it is taken up.
    kept = "The secretariat shall publish all the comments it receives."
    assert uptake(original, suggested, kept).label == "taken_up"


def test_a_replacement_whose_new_term_never_appears_is_not_taken_up():
    # Class 2: "consultation" → "participation" throughout; the next version drops two
    # of the three "consultation"s for its own reasons, and "participation" never comes.
    original = (
        "Consultation starts early. Every consultation is announced. The consultation "
        "report is public."
    )
    suggested = original.replace("Consultation", "Participation").replace(
        "consultation", "participation"
    )
    successor = "Work starts early. Every step is announced. The consultation report is public."
    up = uptake(original, suggested, successor)
    assert up.matched_delete_words == 2
    assert up.matched_insert_words == 0
    assert (up.score, up.label) == (0.0, "not_taken_up")
    assert up.evidence["missing"] == ["Participation", "participation", "participation"]


def test_asked_words_that_landed_in_a_new_paragraph_count_and_are_named():
    original = "Each parliament publishes its agenda."
    suggested = (
        "Each parliament publishes its agenda. Sign-language interpretation is provided "
        "at every public hearing."
    )
    new_version = [
        ("1", "Each parliament publishes its agenda."),
        ("2", "Sign-language interpretation is provided at every public hearing."),
        ("3", "Members answer questions from the public."),
    ]
    before = ["Each parliament publishes its agenda.", "Members answer questions."]
    where = VersionWords(new_version, before)
    up = uptake(original, suggested, "Each parliament publishes its agenda.", elsewhere=where)
    assert up.label == "taken_up"
    assert up.evidence["present"] == [
        {
            "words": "Sign-language interpretation is provided at every public hearing",
            "where": "elsewhere",
            "paragraph": "2",
        }
    ]
    # Without the rest of the version, the same suggestion is not taken up.
    assert uptake(original, suggested, "Each parliament publishes its agenda.").label == (
        "not_taken_up"
    )


def test_common_phrases_elsewhere_prove_nothing():
    # "how does your" opens many questions of a version: it proves nothing.
    questions = [(str(k), f"How does your team measure {w}?") for k, w in enumerate("abcdefg")]
    where = VersionWords(questions, [])
    up = uptake(
        "Who are your users?",
        "Who are your users? How does your team test its code?",
        "Who are your users?",
        elsewhere=where,
    )
    assert up.label == "not_taken_up"


def test_asked_insertions_are_the_words_added():
    assert asked_insertions(
        "Parliaments shall hold hearings.",
        "Parliaments shall hold public hearings within 30 days.",
    ) == ["public", "within 30 days"]
    assert asked_insertions("Parliaments shall hold hearings.", "Parliaments hold hearings.") == []


# ------------------------------------------------------------------ wording in Markdown


@pytest.mark.parametrize(
    ("wording", "source", "plain"),
    [
        ("2014. The law applies.", "The law applies.", "2014. The law applies."),
        ("4. Use open source", "4. Use open source software", "Use open source"),
        ("#### Key Questions", "#### key questions", "Key Questions"),
        ("- Who are your users?", "Who are they?", "- Who are your users?"),
        ("Use [open source](http://x.example/) tools", None, "Use open source tools"),
    ],
)
def test_wording_is_read_as_the_words_a_reader_sees(wording, source, plain):
    assert plain_wording(wording, source) == plain


def test_what_a_suggestion_is_measured_on():
    text, source = "Use JSON for data.", "Use [JSON](http://a.example/) for data."
    assert basis(text, source, "Use JSON or XML for data.") == "text"
    assert basis(text, source, "Use JSON for data.") is None  # the link simply left out
    assert basis(text, source, "Use  [JSON](http://a.example/)\nfor data.") is None
    assert basis(text, source, "Use [JSON](http://b.example/) for data.") == "source"
    assert not asks_change(text, source, "Use JSON  for data.")
    assert asks_change("Use JSON for data.", "Use JSON for data.", "XML", quote="JSON")
    assert not asks_change("Use JSON for data.", "Use JSON for data.", " JSON ", quote="JSON")


# ------------------------------------------------------------------ through the product


def _api_post(client, user, paragraph, wording, **extra):
    return client.post(
        f"/api/v1/paragraphs/{paragraph.id}/comments",
        json={"kind": "suggestion", "body": "Please change this.", "suggested_text": wording}
        | extra,
        headers=bearer(user),
    )


@pytest.mark.parametrize(
    "wording",
    [
        "Parliaments engage civil society openly and in good faith.",
        "  Parliaments engage civil society\nopenly and in good   faith.  ",
    ],
)
def test_a_suggestion_that_changes_nothing_is_refused_and_nothing_is_stored(
    client, make_document, make_user, wording
):
    doc = make_document("consultation")
    p = doc.latest.paragraphs[2]
    assert p.text == "Parliaments engage civil society openly and in good faith."
    user = make_user("cso")
    before = count(Comment)
    error = assert_error(_api_post(client, user, p, wording), 400)
    assert "changes nothing" in error["message"]
    assert count(Comment) == before
    # A quoted span replaced by the same words is refused too.
    error = assert_error(_api_post(client, user, p, "openly", quote="openly"), 400)
    assert "changes nothing" in error["message"]
    assert _api_post(client, user, p, "openly and early", quote="openly").status_code == 201


def test_a_list_item_suggestion_written_with_its_marker_is_measured_on_its_words(
    make_document, make_user
):
    doc = make_document("consultation")
    v1 = doc.latest
    item = v1.paragraphs[5]
    assert (item.kind, item.text) == ("list_item", "Public hearings on every bill.")
    user = make_user("cso")
    with pytest.raises(ConsultError, match="changes nothing"):
        post_comment(
            v1, item, user, kind="suggestion", suggested_text="- Public hearings on every bill."
        )
    c = post_comment(
        v1, item, user, kind="suggestion", suggested_text="- Public hearings on every budget."
    )
    db.session.commit()
    _publish_next(doc, v1, "- Public hearings on every bill.", "- Public hearings on every budget.")
    stored = db.session.query(StoredUptake).filter_by(comment_id=c.id).one()
    assert stored.label == "taken_up"
    assert stored.evidence["present"] == [{"words": "budget", "where": "successor"}]


def _publish_next(doc, v1, old: str, new: str):
    from consult.accounts.models import User
    from tests.conftest import SAMPLE

    secretariat = db.session.scalars(
        db.select(User).where(User.role == "secretariat").order_by(User.id)
    ).first()
    docs.close(v1, by=secretariat) if v1.state == "consultation" else None
    v2 = docs.import_version(doc, SAMPLE.replace(old, new), by=secretariat, label="Next")
    docs.publish(v2, by=secretariat)
    db.session.commit()
    return v2


def test_provenance_credits_only_inserted_words_of_suggestions_taken_up(
    client, make_document, make_user
):
    """Class 6: a suggestion measured as not taken up gets no credit, even when words of
    its wording are in the new text; one taken up is credited for the words it asked to
    insert, not for the paragraph's own words that its wording repeats."""
    doc = make_document("consultation")
    v1 = doc.latest
    p = v1.paragraphs[3]
    assert p.text == "Every submission receives a written answer."
    user = make_user("cso")
    not_taken = post_comment(
        v1,
        p,
        user,
        kind="suggestion",
        suggested_text="Every submission receives a public written answer.",
    )
    taken = post_comment(
        v1,
        p,
        user,
        kind="suggestion",
        suggested_text="Every submission receives a written answer within 30 days.",
    )
    db.session.commit()
    _publish_next(
        doc,
        v1,
        "Every submission receives a written answer.",
        "Every submission receives a written answer within 30 days. The written answer is public.",
    )
    labels = dict(db.session.execute(db.select(StoredUptake.comment_id, StoredUptake.label)).all())
    assert labels == {taken.id: "taken_up", not_taken.id: "not_taken_up"}
    html = client.get(f"/documents/{doc.slug}/versions/2/provenance").get_data(as_text=True)
    marks = re.findall(
        r'<mark class="prov prov-v2">(?:<span class="sr">[^<]*</span>)?([^<]*)'
        r'(?:<span class="sr">[^<]*</span>)?</mark>(<sup class="prov-ref">)?',
        html[html.index('<div class="para') : html.index("<h2>Sources</h2>")],
    )
    # The committee's own sentence repeats "written answer" of both wordings: not credited.
    assert marks == [
        ("within 30 days.", '<sup class="prov-ref">'),
        ("The written answer is public", ""),
    ]
    sources = html[html.index("<h2>Sources</h2>") :]
    assert taken.tracking in sources
    assert not_taken.tracking not in sources


def test_the_paragraph_history_says_why_each_label(client, make_document, make_user):
    doc = make_document("consultation")
    v1 = doc.latest
    p = v1.paragraphs[3]
    user = make_user("cso")
    post_comment(
        v1,
        p,
        user,
        kind="suggestion",
        suggested_text="Every submission receives a public written answer.",
    )
    post_comment(
        v1,
        p,
        user,
        kind="suggestion",
        suggested_text="Every submission receives a written answer within 30 days.",
    )
    db.session.commit()
    _publish_next(
        doc,
        v1,
        "Every submission receives a written answer.",
        "Every submission receives a written answer within 30 days.",
    )
    html = client.get(f"/documents/{doc.slug}/lineages/{p.lineage}").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Why: in the text: “within 30 days”." in text
    assert "Why: Not in the text: “public”." in text


def test_a_short_insertion_beside_a_phrase_found_elsewhere_is_found_with_it():
    # A table row rewritten; the next version moved the row to a table of its own. The
    # long clause is found there, and so is "Notice", beside it as the wording has it.
    original = "System of Records | URL to the System of Records related to this dataset."
    suggested = (
        "System of Records | If the system is designated as a system of records under the "
        "Privacy Act of 1974, provide the URL to the System of Records Notice related to "
        "this dataset."
    )
    moved = suggested.replace("System of Records |", "Records |", 1)
    where = VersionWords([("7.3", "Field | Definition"), ("7.4", moved)], [original])
    up = uptake(original, suggested, "Field | Definition", elsewhere=where, not_in=("7.3",))
    assert up.label == "taken_up"
    assert {f["paragraph"] for f in up.evidence["present"]} == {"7.4"}
    assert up.evidence["missing"] == []


def test_an_asked_word_that_came_with_its_spelling_corrected_counts():
    original = 'Example | {"theme":["vegetables","produce"]}'
    suggested = (
        'Example | {"theme":["vegetables"]} or if muplitle categories, '
        '{"theme":["vegetables","produce"]}'
    )
    successor = suggested.replace("muplitle", "multiple")
    up = uptake(original, suggested, successor)
    assert (up.score, up.label, up.evidence["missing"]) == (1.0, "taken_up", [])
    # Another word is not a spelling of it.
    other = uptake(original, suggested, suggested.replace("muplitle", "several"))
    assert other.score < 1.0
    assert other.evidence["missing"] == ["muplitle"]
