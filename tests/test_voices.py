"""Who may comment (organisations, individuals, withheld names), campaigns, and personal
data held or masked before publication, with the record still verifying (issue 21)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.consultation import redaction
from consult.consultation import services as consultation
from consult.documents import services as docs
from consult.extensions import db
from consult.record.models import Event
from consult.record.service import verify
from consult.timeutil import utcnow
from tests.conftest import assert_error, bearer
from tests.test_counters import text_of

# Made-up data of the region's formats (no real person's): a valid Thai ID check digit, a
# Singapore NRIC with its check letter, Indonesian and Philippine mobile numbers.
THAI_ID = "3-1004-00123-45-6"
NRIC = "S1234567D"
LETTER = (
    "We support the framework. Contact our coordinator at somchai.k@example.org or "
    "+66 81 234 5678; her ID is " + THAI_ID + "."
)


def _open(make_user, *, participants="everyone", withheld=False, personal="hold"):
    by = make_user("secretariat")
    doc = docs.create_document("voices", "Voices Framework", by=by)
    v = docs.import_version(doc, "# Voices\n\nParliaments listen to everyone.\n", by=by)
    docs.publish(
        v,
        by=by,
        closes_at=utcnow() + timedelta(days=7),
        participants=participants,
        withheld_names=withheld,
        personal_data=personal,
    )
    db.session.commit()
    return v, by


def _individual(make_user, *, confirmed=True, name="Malee Srisuk"):
    u = make_user("individual", name=name)
    if confirmed:
        u.email_confirmed_at = utcnow()
    db.session.commit()
    return u


def _anonymous():
    """Read as the public: requests in a test share its app context, where Flask-Login
    keeps the user it loaded (from a bearer token too)."""
    from flask import g

    g.pop("_login_user", None)


def _post(client, v, user, **body):
    body.setdefault("body", "Hearings should be announced a month ahead.")
    body.setdefault("kind", "comment")
    return client.post(
        f"/api/v1/documents/{v.document.slug}/versions/{v.number}/comments",
        json=body,
        headers=bearer(user),
    )


# --- who may comment ----------------------------------------------------------------------


def test_open_version_cli_records_the_settings(runner, make_user):
    by = make_user("admin")
    doc = docs.create_document("cli-voices", "Voices", by=by)
    docs.import_version(doc, "# Voices\n\nText.\n", by=by)
    db.session.commit()
    until = (utcnow() + timedelta(days=5)).date().isoformat()
    r = runner.invoke(
        args=[
            "open-version",
            "cli-voices",
            "1",
            "--until",
            until,
            "--participants",
            "everyone",
            "--withheld-names",
            "--personal-data",
            "mask",
        ]
    )
    assert r.exit_code == 0, r.output
    assert "individuals and organisations" in r.output
    ev = db.session.scalar(select(Event).where(Event.kind == "version.published"))
    data = json.loads(ev.payload)
    assert (data["participants"], data["withheld_names"], data["personal_data"]) == (
        "everyone",
        True,
        "mask",
    )
    bad = runner.invoke(
        args=["open-version", "cli-voices", "1", "--until", until, "--personal-data", "publish"]
    )
    assert bad.exit_code != 0 and "publish" in bad.output


def test_create_user_individual_cli(runner):
    r = runner.invoke(args=["create-user", "ana@example.org", "--role", "individual"])
    assert r.exit_code == 0, r.output
    assert "Created individual account ana@example.org" in r.output
    assert "confirmed" in r.output


def test_individuals_comment_only_where_open_to_everyone(client, make_user, make_document):
    person = _individual(make_user)
    closed_to_them = make_document().versions[0]
    assert_error(_post(client, closed_to_them, person), 403)
    v, _ = _open(make_user)
    unconfirmed = _individual(make_user, confirmed=False, name="Nguyen Van An")
    r = _post(client, v, unconfirmed)
    assert r.status_code == 403 and "Confirm your e-mail" in r.get_json()["error"]["message"]
    r = _post(client, v, person)
    assert r.status_code == 201, r.get_json()
    got = r.get_json()
    assert got["organisation"] is None
    assert got["individual"] == {"name": "Malee Srisuk"}
    # A withheld name is refused where the version does not allow it.
    assert_error(_post(client, v, person, withhold_name=True), 403)


def test_withheld_name_public_pages_and_secretariat(app, client, make_user, as_user):
    v, secretariat = _open(make_user, withheld=True)
    person = _individual(make_user)
    r = _post(client, v, person, withhold_name=True)
    assert r.status_code == 201
    cid = r.get_json()["id"]
    reader = app.test_client()
    _anonymous()
    public = reader.get(f"/api/v1/comments/{cid}").get_json()
    assert public["individual"] == {"name": "A member of the public"}
    page = reader.get(f"/comments/{cid}").get_data(as_text=True)
    assert "A member of the public" in page and "Malee Srisuk" not in page
    as_user(secretariat)
    page = client.get(f"/comments/{cid}").get_data(as_text=True)
    assert "Malee Srisuk" in page
    # The record holds the comment's hash, and verifies.
    ev = db.session.scalar(
        select(Event).where(Event.kind == "comment.posted", Event.subject_id == cid)
    )
    assert json.loads(ev.payload)["individual"] is True
    assert verify().ok


def test_individual_comments_are_labelled_and_counted_apart(client, make_user):
    v, _ = _open(make_user)
    cso = make_user("cso")
    _post(client, v, cso)
    _post(client, v, _individual(make_user))
    page = client.get(f"/documents/{v.document.slug}/versions/{v.number}/comments")
    html = page.get_data(as_text=True)
    assert "Individual" in html
    org_page = client.get(f"/organisations/{cso.organisation.slug}").get_data(as_text=True)
    assert "Malee Srisuk" not in org_page
    report = client.get(f"/documents/{v.document.slug}/versions/{v.number}/report")
    text = text_of(report.get_data(as_text=True))
    # Organisations' and individuals' comments each on their own line, the total apart.
    assert "Comments 2 in all, of which 0 suggestions" in text
    assert "From organisations 1 from 1 organisation" in text
    assert (
        "From individuals 1 comment by a member of the public "
        "(counted apart from the organisations)"
    ) in text
    # The document's "was the input considered?" line says the same.
    doc_page = text_of(client.get(f"/documents/{v.document.slug}").get_data(as_text=True))
    assert "1 comments from 1 organisations and 1 from members of the public" in doc_page


def test_report_exports_count_individuals_apart(client, make_user):
    from openpyxl import load_workbook

    from consult.exports import report
    from tests.test_exports_formats import pdf_text

    v, _ = _open(make_user)
    cso = make_user("cso")
    for body in ("One for the network.", "Two for the network."):
        _post(client, v, cso, body=body)
    _post(client, v, _individual(make_user))
    _post(client, v, _individual(make_user, name="Arif Rahman"), body="Mine alone.")
    # A withdrawn comment counts nowhere.
    gone = _individual(make_user, name="Withdrawn Person")
    mine = _post(client, v, gone, body="Gone.").get_json()["id"]
    r = client.post(
        f"/api/v1/comments/{mine}/withdraw", json={"reason": "Too early."}, headers=bearer(gone)
    )
    assert r.status_code == 200, r.get_json()
    apart = "From organisations: 2; from individuals (members of the public, counted apart): 2."
    s = report.summary(report.report_rows(v), v)
    assert (s.organisation_comments, s.individual_comments) == (2, 2)
    # "By kind of organisation" holds organisations only.
    assert all(label != report.INDIVIDUAL for label, _n in s.by_kind)
    assert apart in " ".join(pdf_text(report.report_pdf(v)).split())
    rows = list(csv.reader(io.StringIO(report.report_csv(v).decode("utf-8-sig"))))
    assert rows[0][-1] == "From"
    assert sorted(r[-1] for r in rows[1:]).count(report.INDIVIDUAL) == 2
    wb = load_workbook(io.BytesIO(report.report_xlsx(v)))
    assert (apart,) in [r[:1] for r in wb["Summary"].iter_rows(values_only=True)]


# --- campaigns ----------------------------------------------------------------------------


def test_campaign_signed_and_withdrawn(client, make_user, make_org):
    v, _ = _open(make_user)
    runner_org = make_user("cso")
    r = _post(client, v, runner_org, campaign=True, body="Fund interpretation at every hearing.")
    assert r.status_code == 201
    cid = r.get_json()["id"]
    named, anonymous = _individual(make_user), _individual(make_user, name="Private Person")
    member = make_user("cso")
    for user, body in (
        (named, {"named": True}),
        (anonymous, {}),
        (member, {"organisation": member.organisation.slug}),
    ):
        r = client.post(f"/api/v1/comments/{cid}/signatures", json=body, headers=bearer(user))
        assert r.status_code == 201, r.get_json()
    again = client.post(f"/api/v1/comments/{cid}/signatures", json={}, headers=bearer(anonymous))
    assert_error(again, 409)
    got = client.get(f"/api/v1/comments/{cid}").get_json()["campaign"]
    assert got["supporters"] == 3
    assert sorted(got["named"]) == sorted(["Malee Srisuk", member.organisation.display_name])
    _anonymous()
    html = client.get(f"/comments/{cid}").get_data(as_text=True)
    assert "3 supporters" in html and "Private Person" not in html
    r = client.delete(f"/api/v1/comments/{cid}/signatures", json={}, headers=bearer(named))
    assert r.status_code == 200, r.get_json()
    assert client.get(f"/api/v1/comments/{cid}").get_json()["campaign"]["supporters"] == 2
    kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.id))]
    assert kinds.count("campaign.signed") == 3 and kinds.count("campaign.signature_withdrawn") == 1
    # The campaign's own organisation cannot sign it.
    own = client.post(
        f"/api/v1/comments/{cid}/signatures",
        json={"organisation": runner_org.organisation.slug},
        headers=bearer(runner_org),
    )
    assert own.status_code in (403, 409)
    assert verify().ok


# --- personal data ------------------------------------------------------------------------


def test_held_comment_is_404_until_reviewed(client, make_user, as_user):
    v, secretariat = _open(make_user, participants="organisations", personal="hold")
    cso = make_user("cso")
    r = _post(client, v, cso, body=LETTER)
    assert r.status_code == 201
    cid = r.get_json()["id"]
    _anonymous()
    assert client.get(f"/api/v1/comments/{cid}").status_code == 404
    assert client.get(f"/comments/{cid}").status_code == 404
    listing = client.get(f"/documents/{v.document.slug}/versions/{v.number}/comments")
    assert "somchai" not in listing.get_data(as_text=True)
    # Its author still reads it; the secretariat reviews it.
    assert client.get(f"/api/v1/comments/{cid}", headers=bearer(cso)).status_code == 200
    as_user(secretariat)
    review = client.get(f"/comments/{cid}/personal-data").get_data(as_text=True)
    assert "somchai.k@example.org" in review and "+66 81 234 5678" in review
    # Keep the e-mail and the ID masked, publish the phone number (an office line).
    spans = redaction.latest_redaction(db.session.get(consultation.Comment, cid)).spans
    kinds = [s["kind"] for s in spans]
    keep = [str(i) for i, k in enumerate(kinds) if k != "phone"]
    r = client.post(
        f"/comments/{cid}/personal-data",
        data={"masked": keep, "reason": "The phone number is the organisation's office."},
    )
    assert r.status_code == 302
    client.post("/sign-out")
    _anonymous()
    public = client.get(f"/api/v1/comments/{cid}")
    assert public.status_code == 200
    body = public.get_json()["body"]
    assert "[e-mail removed]" in body and "[ID number removed]" in body
    assert "+66 81 234 5678" in body and "somchai" not in body
    assert public.get_json()["personal_data"] == "reviewed"
    _record_still_verifies(v, cid)


def test_masked_comment_is_public_with_placeholders(app, client, make_user, as_user):
    v, secretariat = _open(make_user, participants="organisations", personal="mask")
    cso = make_user("cso")
    cid = _post(client, v, cso, body=LETTER).get_json()["id"]
    _anonymous()
    got = client.get(f"/api/v1/comments/{cid}").get_json()
    assert got["personal_data"] == "masked"
    assert got["body"] == (
        "We support the framework. Contact our coordinator at [e-mail removed] or "
        "[phone number removed]; her ID is [ID number removed]."
    )
    page = client.get(f"/comments/{cid}").get_data(as_text=True)
    assert "[e-mail removed]" in page and "somchai" not in page
    # Search finds the public text only.
    from consult.search.outbox import drain

    drain(app)
    assert client.get("/api/v1/search?q=somchai").get_json()["hits"] == []
    assert client.get("/api/v1/search?q=coordinator").get_json()["hits"]
    # The secretariat undoes every mask: the text is published as written.
    as_user(secretariat)
    r = client.post(f"/comments/{cid}/personal-data", data={"masked": [], "reason": "Public."})
    assert r.status_code == 302
    client.post("/sign-out")
    _anonymous()
    assert client.get(f"/api/v1/comments/{cid}").get_json()["body"] == LETTER
    _record_still_verifies(v, cid, absent=None)


def _record_still_verifies(v, cid, absent: bytes | None = b"somchai"):
    """consult/record verify, the receipt, and the standalone verifier of the open data."""
    from consult.exports import opendata
    from consult.record.receipts import receipt_for

    c = db.session.get(consultation.Comment, cid)
    check = verify()
    assert check.ok, check.problems
    kinds = [
        e.kind
        for e in db.session.scalars(select(Event).where(Event.subject_type == "commentredaction"))
    ]
    assert "comment.redacted" in kinds
    ev = db.session.scalar(
        select(Event).where(Event.kind == "comment.redacted").order_by(Event.id.desc())
    )
    data = json.loads(ev.payload)
    assert data["original_hash"] == c.content_hash
    assert "somchai" not in ev.payload  # the record holds places and kinds, not the data
    receipt = receipt_for(c.tracking)
    assert receipt.stored_hash == receipt.recomputed_hash == c.content_hash
    assert receipt.event_ok
    blob = opendata.opendata_zip(v.document)
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        dump = next(n for n in z.namelist() if n.endswith("data.json"))
        data = z.read(dump)
        assert absent is None or absent not in data
    import tempfile
    from pathlib import Path

    from tests.test_record_coverage import _run

    with tempfile.TemporaryDirectory() as tmp:
        r = _run(Path(tmp), blob, c.tracking.lower())
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"receipt {c.tracking}: content hash {c.content_hash}" in r.stdout


@pytest.mark.parametrize("personal", ["hold", "mask"])
def test_a_comment_without_personal_data_is_published_as_written(client, make_user, personal):
    v, _ = _open(make_user, participants="organisations", personal=personal)
    cid = _post(client, v, make_user("cso"), body="Article 12 of the 2025 plan, 3.4.1.").get_json()[
        "id"
    ]
    got = client.get(f"/api/v1/comments/{cid}").get_json()
    assert got["personal_data"] is None and got["body"] == "Article 12 of the 2025 plan, 3.4.1."


def test_the_secretariats_page_opens_with_the_settings(client, make_user, as_user):
    by = make_user("secretariat")
    doc = docs.create_document("page-voices", "Voices", by=by)
    docs.import_version(doc, "# Voices\n\nText.\n", by=by)
    db.session.commit()
    as_user(by)
    page = client.get("/documents/page-voices/versions/1").get_data(as_text=True)
    assert 'name="participants"' in page and 'name="personal_data"' in page
    form = {
        "mode": "open",
        "closes_at": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "participants": "everyone",
        "withheld_names": "y",
        "personal_data": "mask",
    }
    bad = client.post(
        "/documents/page-voices/versions/1/publish", data={**form, "personal_data": "print"}
    )
    assert bad.status_code == 400 and "print" in bad.get_data(as_text=True)
    confirm = client.post("/documents/page-voices/versions/1/publish", data=form)
    html = confirm.get_data(as_text=True)
    assert "Individuals with a confirmed e-mail address can comment too." in html
    assert "published with the data masked" in html
    r = client.post("/documents/page-voices/versions/1/publish", data={**form, "confirmed": "1"})
    assert r.status_code == 302
    v = docs.get_version(docs.get_document("page-voices"), 1)
    assert (v.participants, v.withheld_names, v.personal_data) == ("everyone", True, "mask")


def test_self_sign_up_as_an_individual(client, make_user, make_document):
    closed = client.get("/sign-up/individual")
    assert closed.status_code == 403
    v, _ = _open(make_user)
    version_page = client.get(f"/documents/{v.document.slug}/versions/{v.number}")
    assert "/sign-up/individual" in version_page.get_data(as_text=True)
    assert "Sign up as an individual" in client.get("/sign-up/individual").get_data(as_text=True)
    r = client.post(
        "/sign-up/individual",
        data={
            "name": "Ana Reyes",
            "email": "ana.reyes@example.org",
            "password": "a long password 1",
        },
    )
    assert r.status_code == 302
    from consult.accounts.services import get_user_by_email

    u = get_user_by_email("ana.reyes@example.org")
    assert u.role == "individual" and u.email_confirmed_at is None and not u.memberships


def test_the_exported_report_has_public_text_and_individuals(client, make_user):
    from consult.exports.report import report_csv

    v, _ = _open(make_user, withheld=True, personal="hold")
    _post(client, v, make_user("cso"), body=LETTER)
    _post(client, v, _individual(make_user), withhold_name=True, body="Hearings in Thai, please.")
    csv = report_csv(v).decode("utf-8")
    assert "somchai" not in csv and "Held for the secretariat's review" in csv
    assert "A member of the public" in csv and "Malee Srisuk" not in csv


def test_history_and_accountability_pages_show_the_public_text(client, make_user):
    v, _ = _open(make_user, personal="mask")
    cso = make_user("cso")
    p = v.paragraphs[-1]
    r = client.post(
        f"/api/v1/paragraphs/{p.id}/comments",
        json={"kind": "comment", "body": LETTER},
        headers=bearer(cso),
    )
    assert r.status_code == 201
    r = client.post(
        f"/api/v1/paragraphs/{p.id}/comments",
        json={"kind": "comment", "body": "Hearings in Thai, please."},
        headers=bearer(_individual(make_user)),
    )
    assert r.status_code == 201
    _anonymous()
    pages = [
        f"/documents/{v.document.slug}/lineages/{p.lineage}",
        f"/organisations/{cso.organisation.slug}/accountability",
        f"/organisations/{cso.organisation.slug}",
    ]
    for url in pages:
        resp = client.get(url)
        assert resp.status_code == 200, url
        html = resp.get_data(as_text=True)
        assert "somchai" not in html, url
    lineage = client.get(pages[0]).get_data(as_text=True)
    assert "[e-mail removed]" in lineage and "Malee Srisuk" in lineage
