"""Importing, reviewing and publishing translations; reading a version in a language;
the committee's answers in other languages.

Services take the actor explicitly and only flush; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from consult import signals
from consult.documents import splitter
from consult.documents.models import Document, Paragraph, Version
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.hashing import sha256
from consult.i18n import LOCALES
from consult.timeutil import utcnow
from consult.translations import align as talign
from consult.translations.models import ResponseTranslation, TranslatedParagraph, Translation


def check_language(code: str | None) -> str:
    """A locale code of Consult, or ConsultError naming the ones there are."""
    code = (code or "").strip().lower()
    if code not in LOCALES:
        raise ConsultError(
            _(
                "'%(code)s' is not a language of Consult (%(codes)s).",
                code=code,
                codes=", ".join(LOCALES),
            )
        )
    return code


def authoritative_language(doc: Document) -> str:
    return getattr(doc, "language", None) or "en"


def to_markdown(translation: Translation) -> str:
    return splitter.join([(p.source, p.blank_before) for p in translation.paragraphs])


def _blocks(paragraphs) -> list[talign.Block]:
    return [talign.Block(p.number, p.kind, p.level, p.text, p.source) for p in paragraphs]


def latest_translation(
    version: Version, language: str, *, published_only: bool = True
) -> Translation | None:
    q = select(Translation).where(
        Translation.version_id == version.id, Translation.language == language
    )
    if published_only:
        q = q.where(Translation.state == "published")
    return db.session.scalar(q.order_by(Translation.id.desc()).limit(1))


def import_translation(version: Version, language: str, text: str, *, by) -> Translation:
    """Import `text` (Markdown) as the version's text in `language`, aligned to the
    authoritative paragraphs; a draft for the drafters' review. A draft translation of
    the same version and language is replaced (it was never public); a published one
    stays and the new one will supersede it when published."""
    language = check_language(language)
    if language == authoritative_language(version.document):
        raise ConsultError(
            _(
                "%(lang)s is the authoritative language of this document: import it as a "
                "version, not as a translation.",
                lang=language,
            )
        )
    blocks = splitter.split(text)
    if not blocks:
        raise ConsultError(_("The text is empty: there is nothing to translate into."))
    old = latest_translation(version, language, published_only=False)
    if old is not None and old.state == "draft":
        for p in list(old.paragraphs):
            db.session.delete(p)
        db.session.delete(old)
        db.session.flush()
    paragraphs = list(version.paragraphs)
    matches = talign.align(_blocks(paragraphs), _blocks(blocks))
    t = Translation(
        version=version,
        language=language,
        state="draft",
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(t)
    db.session.flush()
    for m, b in zip(matches, blocks, strict=True):
        orig = paragraphs[m.original] if m.original is not None else None
        db.session.add(
            TranslatedParagraph(
                translation_id=t.id,
                position=m.translated,
                number=b.number,
                kind=b.kind,
                level=b.level,
                source=b.source,
                text=b.text,
                blank_before=b.blank_before,
                paragraph_id=orig.id if orig else None,
                original_hash=sha256(orig.text) if orig else None,
                method="alignment",
                score=m.score,
            )
        )
    db.session.flush()
    db.session.expire(t, ["paragraphs"])
    return t


def relink(translation: Translation, links: dict[int, int | None], *, by) -> int:
    """The drafters' corrections: translated paragraph id → authoritative paragraph id
    (None: not linked). Only a draft translation's links change. Returns how many
    changed."""
    if translation.state != "draft":
        raise Conflict(_("A published translation is frozen: import a new one to change it."))
    allowed = {p.id: p for p in translation.version.paragraphs}
    changed = 0
    for tp in translation.paragraphs:
        if tp.id not in links:
            continue
        target = links[tp.id]
        if target is not None and target not in allowed:
            raise ConsultError(_("Paragraph %(id)s is not a paragraph of this version.", id=target))
        if target != tp.paragraph_id:
            tp.paragraph_id = target
            tp.original_hash = sha256(allowed[target].text) if target is not None else None
            tp.method = "corrected"
            tp.score = 1.0 if target is not None else 0.0
            changed += 1
    db.session.flush()
    return changed


def publish_translation(translation: Translation, *, by) -> Translation:
    """Make a draft translation public and frozen: a record event with its hash."""
    if translation.state != "draft":
        raise Conflict(_("This translation is already published."))
    if translation.version.state == "draft":
        raise Conflict(
            _("Publish the version first: a translation is published beside its version.")
        )
    translation.content_hash = sha256(to_markdown(translation))
    translation.state = "published"
    translation.published_at = utcnow()
    db.session.flush()
    signals.emit(
        signals.translation_published,
        translation,
        by,
        document=translation.version.document.slug,
        version=translation.version.number,
        language=translation.language,
        content_hash=translation.content_hash,
        paragraphs=[[tp.id, tp.paragraph_id, sha256(tp.source)] for tp in translation.paragraphs],
    )
    return translation


def get_translation(translation_id: int, version: Version) -> Translation:
    t = db.session.get(Translation, translation_id)
    if t is None or t.version_id != version.id:
        raise NotFound(_("There is no such translation of this version."))
    return t


def translations_of(version: Version, *, published_only: bool = True) -> list[Translation]:
    q = select(Translation).where(Translation.version_id == version.id)
    if published_only:
        q = q.where(Translation.state == "published")
    return list(db.session.scalars(q.order_by(Translation.language, Translation.id)))


def languages_of(version: Version) -> list[str]:
    """The languages the version can be read in: its own, then every language with a
    published translation of it or of an earlier version of the document."""
    q = (
        select(Translation.language)
        .join(Version, Version.id == Translation.version_id)
        .where(
            Version.document_id == version.document_id,
            Version.number <= version.number,
            Translation.state == "published",
        )
        .distinct()
    )
    found = set(db.session.scalars(q))
    own = authoritative_language(version.document)
    return [own] + [code for code in LOCALES if code in found and code != own]


@dataclass
class TranslatedText:
    """One authoritative paragraph as read in a language."""

    paragraph: Paragraph
    language: str
    source: str | None = None  # the translation's Markdown, None when there is none
    text: str | None = None
    out_of_date: bool = False
    #: The version whose translation this is (an earlier one when carried over).
    from_version: int | None = None
    blocks: list[TranslatedParagraph] = field(default_factory=list)


def read_in(version: Version, language: str, *, drafts: bool = False) -> list[TranslatedText]:
    """Every paragraph of `version` with its text in `language`: from the newest
    published translation of this version or, for paragraphs it lacks, of the newest
    earlier version that has one (through the paragraph's lineage). A translation made
    of a paragraph whose text has changed since is out of date. `drafts`: read the
    version's own draft translation too (for the committee's preview)."""
    paragraphs = list(version.paragraphs)
    if language == authoritative_language(version.document):
        return [TranslatedText(p, language, p.source, p.text) for p in paragraphs]
    own = Paragraph.__table__.alias("own")
    state_ok = Translation.state == "published"
    if drafts:
        state_ok = state_ok | (Translation.version_id == version.id)
    rows = db.session.execute(
        select(TranslatedParagraph, Paragraph.lineage, Version.number, Translation.id)
        .join(Translation, Translation.id == TranslatedParagraph.translation_id)
        .join(Version, Version.id == Translation.version_id)
        .join(Paragraph, Paragraph.id == TranslatedParagraph.paragraph_id)
        .where(
            Version.document_id == version.document_id,
            Version.number <= version.number,
            Translation.language == language,
            state_ok,
            Paragraph.lineage.in_(select(own.c.lineage).where(own.c.version_id == version.id)),
        )
        .order_by(Version.number.desc(), Translation.id.desc(), TranslatedParagraph.position)
    ).all()
    # For each lineage: the blocks of the first (newest) translation that has it.
    chosen: dict[str, tuple[int, int]] = {}
    blocks: dict[str, list[TranslatedParagraph]] = defaultdict(list)
    for tp, lineage, number, tid in rows:
        if lineage not in chosen:
            chosen[lineage] = (tid, number)
        if chosen[lineage][0] == tid:
            blocks[lineage].append(tp)
    out = []
    for p in paragraphs:
        found = blocks.get(p.lineage)
        if not found:
            out.append(TranslatedText(p, language))
            continue
        current = sha256(p.text)
        out.append(
            TranslatedText(
                p,
                language,
                source="\n\n".join(tp.source for tp in found),
                text="\n\n".join(tp.text for tp in found),
                out_of_date=any(tp.original_hash != current for tp in found),
                from_version=chosen[p.lineage][1],
                blocks=found,
            )
        )
    return out


# --- the committee's answers in other languages ------------------------------------------


def translate_response(response, language: str, text: str, *, by) -> ResponseTranslation:
    """Add the committee's answer in another language (the original is never changed)."""
    language = check_language(language)
    text = (text or "").strip()
    if not text:
        raise ConsultError(_("Write the answer in that language."))
    rt = ResponseTranslation(
        response_id=response.id, language=language, text=text, created_by_id=by.id
    )
    db.session.add(rt)
    db.session.flush()
    return rt


def response_translations(response_ids: list[int]) -> dict[int, list[ResponseTranslation]]:
    """The newest translation of each answer in each language, by answer id (the ids of
    one page of comments' answers: a bounded list)."""
    if not response_ids:
        return {}
    rows = db.session.scalars(
        select(ResponseTranslation)
        .where(ResponseTranslation.response_id.in_(response_ids))
        .order_by(ResponseTranslation.response_id, ResponseTranslation.id.desc())
    )
    out: dict[int, dict[str, ResponseTranslation]] = defaultdict(dict)
    for rt in rows:
        out[rt.response_id].setdefault(rt.language, rt)
    return {
        rid: sorted(by_lang.values(), key=lambda r: list(LOCALES).index(r.language))
        for rid, by_lang in out.items()
    }
