"""Bad input on pages, forms and addresses is a 4xx, never a 500, on SQLite and PostgreSQL
(issue 17): ids and numbers beyond a column's range, page numbers, NUL bytes, and the
text policy for everything people write. Ends with a fuzz test of every form."""

from __future__ import annotations

import os
import re
import time
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.routing import IntegerConverter
from wtforms.fields.core import UnboundField

from consult import textpolicy
from consult.accounts.models import Membership, Organisation, User
from consult.consultation import services as cs
from consult.consultation.models import Comment, Reply, Response
from consult.converters import MAX_ID, parse_id
from consult.documents import services as docs
from consult.documents.models import Document, Paragraph
from consult.extensions import db
from consult.forms import Form
from consult.search.outbox import drain

from .conftest import count, post_comment

BIG = 10**20  # beyond SQLite's and PostgreSQL's integers
JUST_OVER = 2**31  # beyond PostgreSQL's integer


@pytest.fixture
def world(make_document, make_user, make_org):
    """A document open for comments with a comment, a reply and an answered comment; a
    second document with version 1 closed and version 2 a draft."""
    sec = make_user("secretariat")
    org = make_org("fuzz-org", "Fuzz Organisation")
    member = make_user("cso", org=org)
    open_doc = make_document("consultation", by=sec, slug="open-doc")
    v = open_doc.latest
    p = v.paragraphs[2]
    c1 = post_comment(v, p, member, body="Please say how often.")
    c2 = post_comment(
        v,
        p,
        member,
        kind="suggestion",
        body="Say it is public.",
        suggested_text="Every submission receives a written, public answer.",
    )
    r = cs.post_reply(c1, body="A reply.", by=member)
    drafting_doc = make_document("consultation", by=sec, slug="drafting-doc")
    answered = post_comment(drafting_doc.latest, drafting_doc.latest.paragraphs[2], member)
    docs.close(drafting_doc.latest, by=sec, reason="Enough comments.")
    cs.respond(answered, decision="noted", reason="Noted.", by=sec)
    docs.copy_version(drafting_doc, by=sec, label="Second draft")
    other = make_user("cso", org=make_org("other-org", "Other Organisation"))
    m = Membership(user=other, organisation=org, status="pending")
    db.session.add(m)
    db.session.commit()
    return dict(
        sec=sec,
        org=org,
        member=member,
        admin=make_user("admin"),
        doc=open_doc,
        version=v,
        paragraph=p,
        c1=c1,
        c2=c2,
        reply=r,
        drafting=drafting_doc,
        membership=m,
    )


# ---------------------------------------------------------------- the text policy


def test_text_policy_cleans_what_people_write():
    clean = textpolicy.clean
    assert clean("Cafe\u0301") == "Caf\u00e9"  # NFC
    assert clean("a\r\nb\rc") == "a\nb\nc"
    assert clean("tab\tand\nnewline") == "tab\tand\nnewline"
    assert clean("bell\x07 del\x7f c1\x85\x9f end\x01") == "bell del c1 end"
    # Joiners inside visible text stay (emoji sequences, scripts that need them).
    assert clean("\U0001f469\u200d\U0001f4bb") == "\U0001f469\u200d\U0001f4bb"
    for invisible in ("\u200b\u200b", "\ufeff", " \u200d\u2060 ", "\u00ad", "\u3164", "\u0301"):
        assert clean(invisible) == "", repr(invisible)
    with pytest.raises(textpolicy.TextRefused, match="NUL"):
        clean("a\x00b", what="The comment")
    with pytest.raises(textpolicy.TextRefused, match="surrogate"):
        clean("a\ud800b")
    assert textpolicy.clean_optional(None) is None


def test_parse_id_takes_only_what_an_id_column_holds():
    assert parse_id("42") == 42 and parse_id(" 7 ") == 7 and parse_id(MAX_ID) == MAX_ID
    for bad in ("0", "-1", str(MAX_ID + 1), str(BIG), "9" * 5000, "4²", "x", "", None, True):
        assert parse_id(bad) is None, bad


def test_every_page_form_applies_the_text_policy(app):
    """Every form class of the pages derives from consult.forms.Form (so its text fields
    are cleaned and its whole numbers bounded as they are read)."""
    from flask_wtf import FlaskForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found = [c for c in subclasses(FlaskForm) if c.__module__.startswith("consult.")]
    assert len(found) > 20
    assert [c for c in found if not issubclass(c, Form)] == []


# ---------------------------------------------------------------- addresses


def _int_routes(app):
    for rule in app.url_map.iter_rules():
        ints = [n for n, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        if ints:
            yield rule, set(ints)


def test_the_int_converter_is_bounded_on_every_route(app):
    from consult.converters import BoundedIntConverter

    rules = list(_int_routes(app))
    assert len(rules) > 40  # pages and API
    for rule, names in rules:
        for name in names:
            conv = rule._converters[name]
            assert isinstance(conv, BoundedIntConverter), rule.rule
            assert conv.max == MAX_ID


@pytest.mark.parametrize("big", [JUST_OVER, BIG])
def test_ids_beyond_range_in_any_address_are_not_found(app, client, as_user, world, big):
    as_user(world["admin"])
    tried = 0
    for rule, names in _int_routes(app):
        values = {}
        for arg in rule.arguments:
            if arg in names:
                values[arg] = big
            elif arg == "slug":
                values[arg] = world["org"].slug if "organisations" in rule.rule else "open-doc"
            else:
                values[arg] = "x"
        path = rule.rule
        for arg, value in values.items():
            path = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{arg}>", str(value), path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            resp = client.open(path, method=method)
            # 405: a rule of another method has the same shape (its number is refused too).
            assert resp.status_code in (404, 405), (method, path, resp.status_code)
            tried += 1
    assert tried > 40


@pytest.mark.parametrize(
    "path",
    [
        "/comments/99999999999999999999",
        "/comments/2147483648",
        "/api/v1/comments/2147483648",
        "/api/v1/comments/99999999999999999999",
        "/groups/99999999999999999999",
        "/documents/open-doc/compare/1/99999999999999999999",
        "/documents/open-doc/compare/99999999999999999999/1",
        "/documents/open-doc/versions/2147483648",
    ],
)
def test_named_addresses_beyond_range(client, world, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/documents/%00",
        "/organisations/%00",
        "/record/receipts/%00",
        "/documents/open%00doc/versions/1",
        "/api/v1/documents/%00",
    ],
)
def test_nul_in_an_address_is_not_found(client, world, path):
    assert client.get(path).status_code == 404


def test_compare_picker_with_a_huge_number_is_not_found(client, world):
    resp = client.get(f"/documents/open-doc/compare?a=1&b={BIG}", follow_redirects=True)
    assert resp.status_code == 404


def test_nul_in_a_query_is_refused(client, world):
    resp = client.get("/search?q=a%00b")
    assert resp.status_code == 400
    assert "NUL" in resp.get_data(as_text=True)
    api = client.get("/api/v1/search?q=a%00b")
    assert api.status_code == 400 and "NUL" in api.get_json()["error"]["message"]


# ---------------------------------------------------------------- page numbers


def test_a_huge_search_page_goes_to_the_last_page(client, search_backend, make_document):
    make_document("consultation", slug="searchable")  # indexed as it is committed
    resp = client.get(f"/search?q=parliaments&page={10**30}")
    assert resp.status_code == 302
    assert "page=" not in resp.headers["Location"]
    assert client.get(resp.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/record/?page={n}",
        "/documents/open-doc/versions/1/comments?page={n}",
        "/paragraphs/{p}?page={n}",
        "/search?q=how+often&page={n}",
    ],
)
def test_huge_page_numbers_on_every_list(client, world, path):
    for n in (10**30, 2**63, 2**31):
        resp = client.get(path.format(n=n, p=world["paragraph"].id))
        assert resp.status_code in (200, 302), (path, n, resp.status_code)
    # The API answers a page number out of range with its JSON error (or an empty page).
    api = client.get(f"/api/v1/search?q=how+often&page={10**30}")
    assert api.status_code in (200, 400) and api.is_json


# ---------------------------------------------------------------- form fields


def test_paragraph_field_beyond_range_is_a_400(client, as_user, world):
    as_user(world["member"])
    before = count(Comment)
    resp = client.post(
        "/documents/open-doc/versions/1/comments",
        data={"paragraph": str(BIG), "organisation": world["org"].id, "body": "Hello"},
    )
    assert resp.status_code == 400
    assert "That paragraph is not in this version." in resp.get_data(as_text=True)
    assert count(Comment) == before


@pytest.mark.parametrize("action", ["flag", "moderate"])
def test_reply_field_beyond_range_is_a_400(client, as_user, world, action):
    as_user(world["admin"] if action == "moderate" else world["member"])
    resp = client.post(
        f"/comments/{world['c1'].id}/{action}",
        data={"reason": "Because.", "action": "hide", "reply": str(BIG)},
    )
    assert resp.status_code == 400
    assert "too large a number" in resp.get_data(as_text=True)


@pytest.mark.parametrize("field", ["organisation"])
def test_organisation_field_beyond_range_is_a_4xx(client, as_user, world, field):
    as_user(world["member"])
    c = world["c1"]
    for action, data in (
        ("replies", {"body": "Reply", field: str(BIG)}),
        ("cosign", {field: str(BIG)}),
    ):
        resp = client.post(f"/comments/{c.id}/{action}", data=data)
        assert 400 <= resp.status_code < 500, (action, resp.status_code)
    assert count(Reply) == 1


def test_ids_beyond_range_in_drafting_forms(client, as_user, world):
    as_user(world["sec"])
    resp = client.post(
        "/documents/drafting-doc/versions/2/insert", data={"after": str(BIG), "source": "New."}
    )
    assert resp.status_code == 404
    resp = client.post(
        "/documents/drafting-doc/versions/1/answer-together",
        data={"comment": [str(BIG), "9" * 5000, "4²"], "decision": "noted", "reason": "R"},
    )
    assert resp.status_code < 500


# ---------------------------------------------------------------- text in forms


def _comment(client, body: str, **extra):
    return client.post(
        "/documents/open-doc/versions/1/comments",
        data={"paragraph": "", "organisation": extra.pop("org"), "body": body, **extra},
    )


def test_nul_in_a_comment_is_refused_and_never_stored(client, as_user, world):
    as_user(world["member"])
    before = count(Comment)
    resp = _comment(client, "Please\x00 say how often.", org=world["org"].id)
    assert resp.status_code == 400
    assert "NUL" in resp.get_data(as_text=True)
    assert count(Comment) == before


def test_control_characters_are_dropped_from_a_comment(client, as_user, world):
    as_user(world["member"])
    resp = _comment(client, "Say\x01 it\x0b early,\r\nplease. Cafe\u0301.", org=world["org"].id)
    assert resp.status_code == 302
    c = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    assert c.body == "Say it early,\nplease. Caf\u00e9."


def test_a_comment_of_invisible_characters_is_empty(client, as_user, world):
    as_user(world["member"])
    before = count(Comment)
    resp = _comment(client, "\u200b\u200b\ufeff", org=world["org"].id)
    assert resp.status_code == 400
    assert count(Comment) == before


def test_organisation_description_is_cleaned(client, as_user, world):
    as_user(world["member"])
    org = world["org"]
    db.session.execute(
        Membership.__table__.update()
        .where(Membership.organisation_id == org.id)
        .values(role="admin", status="approved")
    )
    db.session.commit()
    resp = client.post(
        f"/organisations/{org.slug}/edit",
        data={"name": "Fuzz\x02 Organisation", "kind": org.kind, "description": "Bell\x07s"},
    )
    assert resp.status_code in (200, 302)
    db.session.expire_all()
    org = db.session.get(Organisation, org.id)
    assert org.name == "Fuzz Organisation"
    assert org.description == "Bells"


def test_command_line_text_inputs_follow_the_policy(runner, app):
    ok = runner.invoke(args=["create-org", "cli-org", "CLI\x01 Org\u200b", "--country", "TH"])
    assert ok.exit_code == 0, ok.output
    assert db.session.scalar(select(Organisation.name).where(Organisation.slug == "cli-org")) == (
        "CLI Org\u200b"
    )
    bad = runner.invoke(args=["create-org", "nul-org", "Bad\x00", "--country", "TH"])
    assert bad.exit_code != 0
    assert "NUL" in bad.output
    assert db.session.scalar(select(Organisation).where(Organisation.slug == "nul-org")) is None


# ---------------------------------------------------------------- fuzz every form

#: Examples per run (bounded: about 20 s per database); raise it to search deeper.
FUZZ_EXAMPLES = int(os.environ.get("CONSULT_FUZZ_EXAMPLES", "250"))
#: Field names of every page form, and those the pages read from the post directly.
EXTRA_FIELDS = ["comment", "after", "action", "override_reason", "notify", "preview", "store"]
#: Values that move a form past its first check, so that later code sees bad input too.
PLAUSIBLE = [
    "comment",
    "suggestion",
    "question",
    "accepted",
    "noted",
    "hide",
    "restore",
    "1",
    "2",
    "y",
    "open",
    "copy",
    "import",
    "email",
    "2026-12-31 17:00",
    "Asia/Bangkok",
    "TH",
    "ngo",
    "fuzz-org",
    "Please say how often.",
]


def _form_fields() -> list[str]:
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names = {
        name
        for cls in subclasses(Form)
        for name in dir(cls)
        if isinstance(getattr(cls, name, None), UnboundField)
    }
    return sorted(names | set(EXTRA_FIELDS))


_bad_text = st.one_of(
    st.sampled_from(
        [str(10**30), str(JUST_OVER), str(-(2**63)), "9" * 5000, "\u200b\u200b", "\ufeff", "-1"]
    ),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Mn"]), max_size=12),
    st.text(max_size=40),
    st.builds(lambda n: "x" * n, st.integers(5_000, 60_000)),
    st.sampled_from(PLAUSIBLE),
).map(lambda s: s.encode("utf-8"))
_bad_bytes = st.one_of(
    st.sampled_from([b"\xed\xa0\x80", b"a\xed\xb3\xbfb", b"\x00", b"a\x00b", b"\xff\xfe"]),
    st.binary(max_size=24),
)
_value = st.one_of(_bad_text, _bad_text, _bad_bytes)


def _post_rules(app):
    skip = {"accounts.sign_out"}  # ends the session the fuzz runs in
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if "POST" in (r.methods or ())
            and not r.rule.startswith("/api/")
            and r.endpoint not in skip
        ),
        key=lambda r: r.rule,
    )


def _path(rule, world, draw) -> str:
    drafting = "/versions/<int:number>/" in rule.rule and any(
        w in rule.rule for w in ("/edit", "/insert", "/paragraphs/", "/lineage", "/publish")
    )
    doc = world["drafting"] if drafting else world["doc"]
    version = doc.latest
    values = {
        "slug": world["org"].slug if rule.rule.startswith("/organisations") else doc.slug,
        "number": version.number,
        "comment_id": draw(st.sampled_from([world["c1"].id, world["c2"].id])),
        # An index, not the ids: the paragraphs change as the fuzz edits the draft.
        "paragraph_id": version.paragraphs[draw(st.integers(0, 50)) % len(version.paragraphs)].id,
        "user_id": world["sec"].id,
        "membership_id": world["membership"].id,
        "token": "not-a-token",
    }
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{arg}>", str(values.get(arg, 1)), path)
    return path


def _csrf_token(client) -> str:
    html = client.get("/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the signed-in page has no CSRF token"
    return found.group(1)


def test_fuzz_every_form_gets_no_server_error(app, client, as_user, world, monkeypatch):
    """Bad input posted to every form route as signed-in users with a valid CSRF token:
    never a 5xx (a server error raises here, as the test app propagates exceptions),
    and nothing stored with a NUL or a control character."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    # The index is fed once at the end (below), not after each of hundreds of commits:
    # Whoosh, written to that fast, was seen to log broken segments (reported apart).
    monkeypatch.setitem(app.config, "SEARCH_SYNC", False)
    rules = _post_rules(app)
    assert len(rules) > 30
    fields = _form_fields()
    users = {name: world[name] for name in ("member", "sec", "admin")}
    statuses: dict[int, int] = {}
    started = time.monotonic()

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def post(data):
        who = data.draw(st.sampled_from(sorted(users)))
        as_user(users[who])
        token = _csrf_token(client)
        rule = data.draw(st.sampled_from(rules))
        path = _path(rule, world, data.draw)
        chosen = data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=6))
        pairs = [(name.encode(), data.draw(_value)) for name in chosen]
        pairs.append((b"csrf_token", token.encode()))
        body = "&".join(f"{quote_from_bytes(k)}={quote_from_bytes(v)}" for k, v in pairs)
        resp = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        assert resp.status_code < 500, (path, pairs, resp.status_code)
        db.session.rollback()

    post()
    drain(app)  # what the fuzz stored indexes without error
    print("fuzz statuses:", dict(sorted(statuses.items())), f"{time.monotonic() - started:.1f} s")
    # The fuzz reached the forms (not only CSRF or permission refusals).
    reached = sum(statuses.get(code, 0) for code in (200, 302, 409))  # a service ran
    assert statuses.get(400, 0) > 10 and reached > 10
    stored = [
        *db.session.scalars(select(Comment.body)),
        *db.session.scalars(select(Comment.suggested_text)),
        *db.session.scalars(select(Reply.body)),
        *db.session.scalars(select(Response.reason)),
        *db.session.scalars(select(Organisation.name)),
        *db.session.scalars(select(Organisation.description)),
        *db.session.scalars(select(Document.title)),
        *db.session.scalars(select(Paragraph.source)),
        *db.session.scalars(select(User.name)),
    ]
    bad = [s for s in stored if s and re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", s)]
    assert bad == []


def test_an_uploaded_text_follows_the_policy(client, as_user, make_document, make_user):
    import io

    from consult.documents.models import Version

    sec = as_user(make_user("secretariat"))
    doc = make_document("closed", by=sec, slug="upload-doc")

    def upload(content: bytes):
        return client.post(
            f"/documents/{doc.slug}/versions/new",
            data={"source": "import", "upload": (io.BytesIO(content), "text.md")},
            content_type="multipart/form-data",
        )

    before = count(Version)
    resp = upload(b"# Title\n\nA paragraph\x00 with a NUL.\n")
    assert resp.status_code == 400 and "NUL" in resp.get_data(as_text=True)
    assert count(Version) == before
    assert upload(b"# Title\r\n\r\nA bell\x07 and Cafe\xcc\x81.\r\n").status_code == 302
    v = db.session.scalars(select(Version).order_by(Version.id.desc())).first()
    assert [p.source for p in v.paragraphs] == ["# Title", "A bell and Caf\u00e9."]


def test_surrogates_written_as_form_bytes_are_never_stored(client, as_user, world):
    as_user(world["member"])
    body = b"body=a%ED%A0%80b&paragraph=&organisation=" + str(world["org"].id).encode()
    resp = client.post(
        "/documents/open-doc/versions/1/comments",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 302
    c = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    assert c.body.startswith("a") and c.body.endswith("b")
    assert not any("\ud800" <= ch <= "\udfff" for ch in c.body)
