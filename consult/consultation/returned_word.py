"""A Word file that an organisation returned marked up becomes its comments.

Many organisations answer a consultation by editing the Word file they were sent
(Consult's export of the version, or the offline pack) with tracked changes and Word
comments. Here each Word paragraph with tracked insertions or deletions becomes one
suggestion whose wording is the paragraph with the insertions kept and the deletions
left out, and each Word comment becomes a comment quoting the span it covers, for the
organisation, with the channel "word".

This reads the file's XML (with lxml), where the other import reads Word through
Pandoc (documents.word): what is needed here — each paragraph's bookmark naming its
lineage, the exact runs inside <w:ins> and <w:del>, and the comment ranges with their
offsets — is what a converter flattens away.

Paragraphs are found by the bookmark Consult's export puts around each one (named by
its lineage, exports/resolution.bookmark), else by their original text (the text with
deletions and without insertions), exactly or by similarity. The version must be the
one the file came from: its content hash is in the file's custom properties when
Consult made it; without one, most of the file's paragraphs must be found in it.

`read` checks everything and stores nothing (the preview, --dry-run); `store` posts the
comments, all or none, and keeps the file under instance/returned-word/ named by its
sha256, with a list of the comments it became.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field

from flask_babel import gettext as _

from consult import blobs, signals
from consult.accounts import policy
from consult.accounts.models import Organisation, User
from consult.consultation.models import Comment
from consult.consultation.services import checked_text, post_comment
from consult.documents import word
from consult.documents.models import Paragraph, Version
from consult.errors import ConsultError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f"{{{W}}}"
#: Share of a file's paragraphs that must be found in the version when it carries no hash.
MIN_FOUND = 0.5
#: Similarity (0–1) above which a paragraph's original text is taken for a version's.
MIN_SIMILARITY = 0.85
CHANNEL = "word"


@dataclass
class WordParagraph:
    """One paragraph of the returned file, as the organisation received and changed it."""

    index: int
    original: str  # deletions kept, insertions left out: the text as it was sent
    suggested: str  # insertions kept, deletions left out: the text as proposed
    lineage: str | None = None
    inserted: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: Word comment id → (start, end) in `original`, end None while the range is open.
    ranges: dict[str, list[int | None]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.deleted)


@dataclass
class Proposal:
    """A comment or suggestion the file would become, with what is wrong with it."""

    kind: str
    word_paragraph: int  # 1-based, in the file
    paragraph: Paragraph | None
    body: str
    suggested_text: str | None = None
    quote: str | None = None
    author: str = ""  # as Word recorded it
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "word_paragraph": self.word_paragraph,
            "paragraph": self.paragraph.number if self.paragraph is not None else None,
            "paragraph_id": self.paragraph.id if self.paragraph is not None else None,
            "body": self.body,
            "suggested_text": self.suggested_text,
            "quote": self.quote,
            "word_author": self.author,
            "errors": self.errors,
        }


@dataclass
class Returned:
    version: Version
    organisation: Organisation
    sha256: str
    found_by: str  # "hash" or "alignment"
    proposals: list[Proposal]

    @property
    def ok(self) -> bool:
        return bool(self.proposals) and not any(p.errors for p in self.proposals)


# ------------------------------------------------------------------------ reading


def _xml(z: zipfile.ZipFile, name: str):
    from lxml import etree

    if name not in z.namelist():
        return None
    return etree.fromstring(z.read(name), etree.XMLParser(resolve_entities=False, no_network=True))


def parse(blob: bytes) -> tuple[list[WordParagraph], dict[str, tuple[str, str]]]:
    """The file's body paragraphs, and its comments (id → (author, text))."""
    try:
        z = zipfile.ZipFile(io.BytesIO(blob))
        doc = _xml(z, "word/document.xml")
        notes = _xml(z, "word/comments.xml")
    except Exception:  # noqa: BLE001 - a damaged zip or XML: one plain message
        raise word.WordError(
            _("This Word file could not be read; save it again as .docx and upload that.")
        ) from None
    if doc is None:
        raise word.WordError(_("This is not a Word (.docx) file: it holds no document."))
    comments: dict[str, tuple[str, str]] = {}
    if notes is not None:
        for c in notes.iter(f"{_W}comment"):
            paras = ["".join(t.text or "" for t in p.iter(f"{_W}t")) for p in c.iter(f"{_W}p")]
            comments[c.get(f"{_W}id")] = (
                c.get(f"{_W}author") or "",
                "\n".join(x for x in paras if x.strip()).strip(),
            )
    body = doc.find(f"{_W}body")
    out = []
    for i, p in enumerate(body.iter(f"{_W}p") if body is not None else [], start=1):
        out.append(_paragraph(i, p))
    return out, comments


def _paragraph(index: int, p) -> WordParagraph:
    wp = WordParagraph(index, "", "")
    original: list[str] = []
    suggested: list[str] = []
    for el in p.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == f"{_W}bookmarkStart":
            name = el.get(f"{_W}name") or ""
            if name.startswith(word.BOOKMARK_PREFIX) and wp.lineage is None:
                wp.lineage = name[len(word.BOOKMARK_PREFIX) :]
            continue
        if tag == f"{_W}commentRangeStart":
            wp.ranges[el.get(f"{_W}id")] = [len("".join(original)), None]
            continue
        if tag == f"{_W}commentRangeEnd":
            span = wp.ranges.setdefault(el.get(f"{_W}id"), [0, None])
            span[1] = len("".join(original))
            continue
        if tag == f"{_W}commentReference":
            wp.ranges.setdefault(el.get(f"{_W}id"), [None, None])
            continue
        text = _run_text(el, tag)
        if text is None:
            continue
        state = _change(el)
        if state == "ins":
            suggested.append(text)
            wp.inserted.append(text)
        elif state == "del":
            original.append(text)
            wp.deleted.append(text)
        else:
            original.append(text)
            suggested.append(text)
    wp.original, wp.suggested = "".join(original), "".join(suggested)
    return wp


def _run_text(el, tag: str) -> str | None:
    if tag in (f"{_W}t", f"{_W}delText"):
        return el.text or ""
    if tag == f"{_W}tab":
        return "\t"
    if tag in (f"{_W}br", f"{_W}cr"):
        return "\n"
    return None


def _change(el) -> str | None:
    """ "ins" or "del" when the run is inside a tracked insertion (or move to) or
    deletion (or move from)."""
    for parent in el.iterancestors():
        tag = parent.tag
        if tag in (f"{_W}ins", f"{_W}moveTo"):
            return "ins"
        if tag in (f"{_W}del", f"{_W}moveFrom"):
            return "del"
        if tag == f"{_W}p":
            return None
    return None


# ------------------------------------------------------------------------ matching

_NUMBER = re.compile(r"\A(\d+(?:\.\d+)*)\t")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _strip_number(wp: WordParagraph) -> int:
    """Consult's export prints "number<TAB>" before each paragraph: not the text."""
    m = _NUMBER.match(wp.original)
    if not m or not wp.suggested.startswith(m.group(0)):
        return 0
    cut = m.end()
    wp.original, wp.suggested = wp.original[cut:], wp.suggested[cut:]
    for span in wp.ranges.values():
        for k in (0, 1):
            if span[k] is not None:
                span[k] = max(span[k] - cut, 0)
    return cut


def _match(version: Version, paragraphs: list[WordParagraph]) -> dict[int, Paragraph]:
    """Word paragraph index → the version's paragraph: by bookmark, then same text,
    then the most similar text (each version paragraph taken once)."""
    from rapidfuzz import fuzz

    by_lineage = {p.lineage: p for p in version.paragraphs}
    by_text: dict[str, list[Paragraph]] = {}
    for p in version.paragraphs:
        by_text.setdefault(_norm(p.text), []).append(p)
    found: dict[int, Paragraph] = {}
    taken: set[int] = set()
    for wp in paragraphs:
        p = by_lineage.get(wp.lineage or "")
        if p is not None and p.id not in taken:
            found[wp.index] = p
            taken.add(p.id)
    for wp in paragraphs:
        if wp.index in found or not _norm(wp.original):
            continue
        for p in by_text.get(_norm(wp.original), []):
            if p.id not in taken:
                found[wp.index] = p
                taken.add(p.id)
                break
    for wp in paragraphs:
        if wp.index in found or not (wp.changed or wp.ranges) or not _norm(wp.original):
            continue
        best, score = None, 0.0
        for p in version.paragraphs:
            if p.id in taken:
                continue
            s = fuzz.ratio(_norm(wp.original), _norm(p.text)) / 100
            if s > score:
                best, score = p, s
        if best is not None and score >= MIN_SIMILARITY:
            found[wp.index] = best
            taken.add(best.id)
    return found


def _check_version(version: Version, blob: bytes, paragraphs, found) -> str:
    """ "hash" when the file names this version, "alignment" when most of its text is
    found in it; ConsultError otherwise."""
    props = word.custom_properties(blob)
    embedded = props.get(word.PROP_HASH) or ""
    if embedded:
        if version.content_hash and embedded == version.content_hash:
            return "hash"
        other = next((v for v in version.document.versions if v.content_hash == embedded), None)
        if other is not None:
            raise ConsultError(
                _(
                    "This Word file was made from version %(number)s, not "
                    "version %(number2)s: import it for version %(number)s.",
                    number=other.number,
                    number2=version.number,
                ),
                code="wrong_version",
            )
    with_text = [wp for wp in paragraphs if _norm(wp.original)]
    share = len(found) / max(len(with_text), 1)
    if share < MIN_FOUND:
        raise ConsultError(
            _(
                "This Word file does not look like version %(number)s: only "
                "%(n)s of its %(n2)s paragraphs are in that version. Was it "
                "made from another version or document?",
                number=version.number,
                n=len(found),
                n2=len(with_text),
            ),
            code="wrong_version",
        )
    return "alignment"


# ------------------------------------------------------------------------ proposals


def _quoted(items: list[str], limit: int = 6) -> str:
    shown = [f"“{' '.join(x.split())}”" for x in items if x.strip()][:limit]
    more = len([x for x in items if x.strip()]) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _suggestion_body(wp: WordParagraph) -> str:
    parts = []
    if wp.deleted:
        parts.append(f"deletes {_quoted(wp.deleted)}")
    if wp.inserted:
        parts.append(f"inserts {_quoted(wp.inserted)}")
    return "Tracked changes in the returned Word file: " + "; ".join(parts) + "."


def proposals(version: Version, blob: bytes) -> tuple[list[Proposal], str]:
    """Every comment and suggestion the file would become, each with its errors, and how
    the version was recognised."""
    paragraphs, comments = parse(blob)
    for wp in paragraphs:
        _strip_number(wp)
    found = _match(version, paragraphs)
    found_by = _check_version(version, blob, paragraphs, found)
    out: list[Proposal] = []
    anchored: set[str] = set()
    for wp in paragraphs:
        p = found.get(wp.index)
        where = f"Word paragraph {wp.index} (“{' '.join(wp.original.split()[:8])}…”)"
        if wp.changed:
            suggested = wp.suggested.strip()
            if not suggested:
                prop = Proposal(
                    "comment",
                    wp.index,
                    p,
                    "The returned Word file deletes this whole paragraph "
                    f"(tracked deletion of {_quoted(wp.deleted, 1)}).",
                )
            else:
                prop = Proposal("suggestion", wp.index, p, _suggestion_body(wp), suggested)
            out.append(prop)
            if p is None:
                prop.errors.append(f"{where} is not a paragraph of version {version.number}.")
        for cid, (start, end) in wp.ranges.items():
            if cid in anchored or cid not in comments:
                continue
            anchored.add(cid)
            author, text = comments[cid]
            quote = None
            if start is not None:
                quote = wp.original[start : end if end is not None else len(wp.original)]
                quote = quote.strip() or None
            prop = Proposal("comment", wp.index, p, text, quote=quote, author=author)
            out.append(prop)
            if p is None:
                prop.errors.append(f"{where} is not a paragraph of version {version.number}.")
            if not text:
                prop.errors.append(f"A Word comment on {where.lower()} is empty.")
    for cid, (author, text) in comments.items():
        if cid not in anchored:  # anchored nowhere in the body: on the version as a whole
            out.append(Proposal("comment", 0, None, text, author=author))
    for prop in out:
        wp = next((w for w in paragraphs if w.index == prop.word_paragraph), None)
        if (
            prop.paragraph is not None
            and wp is not None
            and _norm(wp.original) != _norm(prop.paragraph.text)
        ):
            prop.errors.append(
                f"Word paragraph {wp.index} differs from paragraph {prop.paragraph.number} "
                f"of version {version.number} outside its tracked changes (was it edited "
                "with Track Changes off?): make every change a tracked one and send the "
                "file again."
            )
        if prop.errors:
            continue
        try:
            checked_text(prop.kind, prop.paragraph, prop.body, prop.suggested_text, prop.quote)
        except ConsultError as e:
            prop.errors.append(e.message)
    return out, found_by


# ------------------------------------------------------------------------ services


def authorise(user: User, version: Version, organisation: Organisation) -> bool:
    """True when `user` enters the comments for the organisation (the secretariat),
    False when a member sends them itself; NotAllowed otherwise."""
    if policy.can(user, "comment.enter_on_behalf", version):
        return True
    policy.require(user, "comment.create", version)
    if organisation not in user.organisations:
        raise ConsultError(
            _("You can only send a Word file for an organisation you belong to."), status=403
        )
    return False


def read(version: Version, organisation: Organisation, blob: bytes, filename: str) -> Returned:
    """What the file would become; nothing is stored."""
    if not (filename or "").lower().endswith(".docx"):
        raise word.WordError(
            _(
                "Send the marked-up Word file (.docx): tracked changes and "
                "comments are read from Word files."
            )
        )
    word.file_kind(filename, blob)
    found, found_by = proposals(version, blob)
    if not found:
        raise ConsultError(
            _(
                "This Word file has no tracked changes and no comments: "
                "there is nothing to import. Mark it up with Track Changes "
                "and comments, then send it again."
            ),
            code="nothing_to_import",
        )
    return Returned(version, organisation, hashlib.sha256(blob).hexdigest(), found_by, found)


def store(returned: Returned, blob: bytes, *, by: User) -> list[Comment]:
    """Post every proposal (all or none: ConsultError when any has an error; the caller
    rolls back) and keep the file as their source."""
    bad = [p for p in returned.proposals if p.errors]
    if bad:
        raise ConsultError(
            f"Nothing was stored: {len(bad)} of the file's comments and suggestions "
            "need correcting. "
            + " ".join(f"Word paragraph {p.word_paragraph}: {' '.join(p.errors)}" for p in bad),
            code="invalid_file",
        )
    on_behalf = authorise(by, returned.version, returned.organisation)
    made = [
        post_comment(
            version=returned.version,
            paragraph=p.paragraph,
            organisation=returned.organisation,
            kind=p.kind,
            body=p.body,
            suggested_text=p.suggested_text,
            quote=p.quote,
            by=by,
            channel=CHANNEL,
            on_behalf=on_behalf,
        )
        for p in returned.proposals
    ]
    keep(returned, blob, made, by=by)
    return made


def keep(returned: Returned, blob: bytes, comments: list[Comment], *, by: User) -> str:
    """Keep the file in the file store's "returned-word" area, named by its sha256, and
    record what it became: the record's event names the file's sha256, the version, the
    organisation and the comments' tracking numbers, so anyone can match the file kept
    with the comments it became. Returns the sha256."""
    digest = blobs.put("returned-word", blob)
    signals.emit(
        signals.returned_word_imported,
        returned.version,
        by,
        file_sha256=digest,
        organisation=returned.organisation.slug,
        found_by=returned.found_by,
        comments=[c.tracking for c in comments],
    )
    return digest
