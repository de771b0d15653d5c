"""Public pages of the record: the event log with its tree, its signed tree heads (page
and Atom feed) and the instance's public key, and receipts, which anyone can check: an
organisation can prove what it submitted, that it is in the record, and (with any later
head) that the record was only appended to since."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from sqlalchemy import func, select

from consult.consultation.models import Comment
from consult.extensions import db
from consult.i18n import N_
from consult.paging import page_count
from consult.record import keys
from consult.record import log as tree_log
from consult.record.describe import describe
from consult.record.models import Event, TreeHead
from consult.record.receipts import Receipt, receipt_for, receipt_json
from consult.record.service import verify
from consult.record.verify_standalone import EMPTY_ROOT, key_id
from consult.web import page_number

bp = Blueprint("record", __name__, url_prefix="/record")

#: Why a tree head was signed (SignedHead.reason), in words.
HEAD_REASONS = {
    "interval": N_("at the interval"),
    "publication": N_("publication"),
    "closing": N_("closing"),
    "finalisation": N_("finalisation"),
    "rotation": N_("key rotation"),
    "receipts": N_("receipts"),
    "command": N_("command"),
}


@bp.app_template_filter()
def head_reason(reason: str) -> str:
    """Why a tree head was signed, in the reader's language."""
    return gettext(HEAD_REASONS.get(reason, reason))


PER_PAGE = 50
HEADS_SHOWN = 20
#: The newest heads the Atom feed carries.
FEED_HEADS = 100
#: Up to this many events the page verifies the whole record on every view; beyond,
#: it verifies when asked (the check reads every event and every comment).
VERIFY_ON_VIEW = 5_000

__all__ = ["Receipt", "bp", "receipt_for"]


@bp.get("/receipts/<tracking>")
def receipt(tracking: str):
    r = receipt_for(tracking)
    return render_template("record/receipt.html", r=r, c=r.comment, doc=r.comment.version.document)


@bp.get("/check")
def check_tracking():
    """The record page's box: a tracking number leads to its receipt (the comment, its
    events and the proof); one that matches no comment says so, with the box again."""
    tracking = (request.args.get("tracking") or "").strip().upper()
    if tracking and db.session.scalar(select(Comment.id).where(Comment.tracking == tracking)):
        return redirect(url_for("record.receipt", tracking=tracking))
    return render_template("record/check.html", tracking=tracking), 404 if tracking else 200


@bp.get("/receipts/<tracking>.json")
def receipt_file(tracking: str):
    r = receipt_for(tracking)
    resp = jsonify(receipt_json(r))
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="receipt-{r.comment.tracking}.json"'
    )
    return resp


@bp.get("/receipts/<tracking>.pdf")
def receipt_pdf(tracking: str):
    from weasyprint import HTML

    r = receipt_for(tracking)
    html = render_template(
        "record/receipt_print.html", r=r, c=r.comment, doc=r.comment.version.document
    )
    body = HTML(string=html).write_pdf()
    resp = Response(body, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="receipt-{r.comment.tracking}.pdf"'
    return resp


@bp.get("/")
def log():
    """The event log, newest first, with the tree, its signed heads and the verification."""
    total = db.session.scalar(select(func.count(Event.id)).where(Event.seq.is_not(None))) or 0
    waiting = db.session.scalar(select(func.count(Event.id)).where(Event.seq.is_(None))) or 0
    page = page_number()
    pages = page_count(total, PER_PAGE)
    page = min(page, pages)
    events = db.session.scalars(
        select(Event)
        .where(Event.seq.is_not(None))
        .order_by(Event.seq.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    size, root = tree_log.state()
    heads = db.session.scalars(
        select(TreeHead).order_by(TreeHead.id.desc()).limit(HEADS_SHOWN)
    ).all()
    head_count = db.session.scalar(select(func.count(TreeHead.id))) or 0
    check = None
    if request.args.get("verify") or total <= VERIFY_ON_VIEW:
        check = verify()
    public_key = keys.public_key_hex()
    return render_template(
        "record/log.html",
        events=events,
        total=total,
        waiting=waiting,
        page=page,
        pages=pages,
        per_page=PER_PAGE,
        size=size,
        head=root if size else EMPTY_ROOT,
        heads=heads,
        head_count=head_count,
        public_key=public_key,
        key_id=key_id(public_key),
        past_keys=keys.known_keys()[1:],
        check=check,
        described=describe(events),
        public_docs=_public_documents(),
    )


def _public_documents() -> list:
    """(document, its latest public version) for the open-data links of the page."""
    from consult.documents.models import Document, Version

    latest = (
        select(Version.document_id, func.max(Version.number).label("n"))
        .where(Version.state != "draft")
        .group_by(Version.document_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Document, Version)
        .join(latest, latest.c.document_id == Document.id)
        .join(Version, (Version.document_id == Document.id) & (Version.number == latest.c.n))
        .order_by(Document.title)
    ).all()
    return [(d, v) for d, v in rows]


@bp.get("/heads.atom")
def heads_feed():
    """Every signed tree head, newest first: monitors and organisations keep them."""
    heads = db.session.scalars(
        select(TreeHead).order_by(TreeHead.id.desc()).limit(FEED_HEADS)
    ).all()
    body = render_template(
        "record/heads.xml",
        heads=heads,
        public_key=keys.public_key_hex(),
        json_of=tree_log.head_json,
        home=url_for("record.log", _external=True),
    )
    resp = make_response(body)
    resp.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    return resp
