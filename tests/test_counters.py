"""Counts of comments kept as comments arrive (issue 18, tracing.counters): after posts on
the web and by the secretariat, answers and changed answers, withdrawals, hiding and
showing again, and uptake measured at the next publication, the kept counts equal what
counting the comments gives, the pages show them, and `flask recount` rebuilds them."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from consult.consultation import services as cs
from consult.consultation.listing import hidden, waiting
from consult.consultation.models import Comment, CommentWithdrawal
from consult.documents import services as docs
from consult.extensions import db
from consult.timeutil import utcnow
from consult.tracing import counters
from consult.tracing.counters import CommentCount
from consult.tracing.guard import unanswered_count


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def kept() -> Counter:
    return Counter(
        {
            (v, d, k): n
            for v, d, k, n in db.session.execute(
                select(
                    CommentCount.version_id,
                    CommentCount.dimension,
                    CommentCount.key,
                    CommentCount.n,
                )
            )
            if n
        }
    )


def counted() -> Counter:
    """The same figures from aggregate COUNTs over the comments."""
    out: Counter = Counter()
    for v, k, n in db.session.execute(
        select(Comment.version_id, Comment.paragraph_id, func.count()).group_by(
            Comment.version_id, Comment.paragraph_id
        )
    ):
        out[(v, "paragraph", "" if k is None else str(k))] = n
    for v, k, n in db.session.execute(
        select(Comment.version_id, Comment.paragraph_id, func.count())
        .where(waiting())
        .group_by(Comment.version_id, Comment.paragraph_id)
    ):
        out[(v, "waiting", "" if k is None else str(k))] = n
    standing = (
        ~select(CommentWithdrawal.id).where(CommentWithdrawal.comment_id == Comment.id).exists()
    )
    for v, k, n in db.session.execute(
        select(Comment.version_id, Comment.organisation_id, func.count())
        .where(standing)
        .group_by(Comment.version_id, Comment.organisation_id)
    ):
        out[(v, "organisation", "" if k is None else str(k))] = n
    return out


def facts_equal_recount() -> None:
    """The kept counts, every dimension, equal those rebuilt from the comments."""
    before = kept()
    counters.recount(db.session.connection())
    assert kept() == before
    db.session.rollback()


def check() -> None:
    db.session.commit()
    got = kept()
    want = counted()
    assert {k: n for k, n in got.items() if k[1] != "facts"} == want
    facts_equal_recount()


def test_counts_stay_equal_to_counting_the_comments(
    client, as_user, make_document, make_user, make_org
):
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec)
    v1 = doc.latest
    ann, bee = make_user("cso"), make_user("cso")
    paras = [p for p in v1.paragraphs if p.kind != "heading"]

    # On the web: a comment and a suggestion.
    as_user(ann)
    url = f"/documents/{doc.slug}/versions/1/comments"
    for kind, extra in (
        ("comment", {}),
        ("suggestion", {"suggested_text": paras[0].text + " Within thirty days."}),
    ):
        data = {
            "organisation": ann.organisation.id,
            "paragraph": str(paras[0].id),
            "kind": kind,
            "body": f"A {kind} from the web.",
            "suggested_text": "",
            "quote": "",
            **extra,
        }
        assert client.post(url, data=data).status_code == 302
    check()

    # Through the services: on the version as a whole, a question, a suggestion.
    made = [
        cs.post_comment(
            version=v1,
            paragraph=p,
            organisation=bee.organisation,
            kind=kind,
            body=f"Remark {i}.",
            suggested_text=(p.text + " Every year.") if kind == "suggestion" else None,
            by=bee,
        )
        for i, (p, kind) in enumerate(
            ((None, "comment"), (paras[1], "question"), (paras[1], "suggestion"))
        )
    ]
    db.session.commit()
    check()
    whole, question, suggestion = made
    web_comment, web_suggestion = db.session.scalars(
        select(Comment).where(Comment.author_id == ann.id).order_by(Comment.id)
    ).all()

    # Withdrawn, hidden, shown again.
    cs.withdraw_comment(question, by=bee, reason="Answered elsewhere.")
    check()
    cs.moderate(web_comment, action="hide", reason="A phone number.", by=sec)
    check()
    cs.moderate(whole, action="hide", reason="Off topic.", by=sec)
    db.session.commit()
    cs.moderate(whole, action="restore", reason="On topic after all.", by=sec)
    check()

    # Answers, and an answer changed.
    docs.close(v1, by=sec)
    db.session.commit()
    cs.respond(web_suggestion, decision="noted", reason="Seen.", by=sec)
    cs.respond(suggestion, decision="accepted", reason="Yes.", by=sec)
    check()
    cs.respond(web_suggestion, decision="not_accepted", reason="On reflection, no.", by=sec)
    check()
    facts = Counter()
    for _v, kind, decision, _label, withdrawn, n in counters.facts([v1.id]):
        facts[(kind, decision, withdrawn)] += n
    assert facts == {
        ("comment", None, False): 2,
        ("suggestion", "not_accepted", False): 1,
        ("suggestion", "accepted", False): 1,
        ("question", None, True): 1,
    }

    # Waiting for an answer on version 1 (the finalize guard's count): two.
    assert counters.unanswered(v1) == unanswered_count(v1) == 2

    # Version 2 published: the suggestions' uptake is measured and counted.
    v2 = docs.copy_version(doc, by=sec, label="Second draft")
    docs.publish(v2, by=sec, closes_at=utcnow() + timedelta(days=7))
    check()
    labels = Counter()
    for _v, kind, _d, label, _w, n in counters.facts([v1.id]):
        if kind == "suggestion":
            labels[label] += n
    assert sum(labels.values()) == 2 and None not in labels

    # What the pages show comes from the kept counts.
    as_user(sec)
    page = text_of(client.get(f"/documents/{doc.slug}/versions/1/report").get_data(as_text=True))
    assert "Comments 4 from 2 organisations, of which 2 suggestions" in page
    assert "Answered 2 of 4" in page
    api = client.get(f"/api/v1/documents/{doc.slug}/versions/1").get_json()
    per_para = {p["id"]: p["comment_count"] for p in api["paragraphs"]}
    assert api["comment_count"] == 5 and api["version_comment_count"] == 1
    assert per_para[paras[0].id] == 2 and per_para[paras[1].id] == 2
    waiting_page = client.get(f"/documents/{doc.slug}/versions/1/comments?unanswered=1")
    assert waiting_page.status_code == 200
    shown = text_of(waiting_page.get_data(as_text=True))
    assert "Remark 0." in shown and "Remark 1." not in shown and "Remark 2." not in shown
    hidden_now = db.session.scalar(select(func.count()).where(hidden()))
    assert hidden_now == 1


def test_recount_command_rebuilds_counts_lost_or_wrong(runner, make_document, make_user):
    doc = make_document("consultation")
    v = doc.latest
    member = make_user("cso")
    for i in range(3):
        cs.post_comment(
            version=v,
            paragraph=v.paragraphs[2],
            organisation=member.organisation,
            kind="comment",
            body=f"Remark {i}.",
            by=member,
        )
    db.session.commit()
    right = kept()
    db.session.execute(CommentCount.__table__.update().values(n=99))
    db.session.commit()
    result = runner.invoke(args=["recount"])
    assert result.exit_code == 0, result.output
    assert "Counted 3 comments again." in result.output
    db.session.expire_all()
    assert kept() == right
    assert right[(v.id, "paragraph", str(v.paragraphs[2].id))] == 3
