"""The demo's texts in other languages: the AIPA framework's final version translated in
full into Thai and Bahasa Indonesia (data/translations/, written for this project), the
committee's answer to the comment that asked for translations given in both languages
too, and a few comments written in Thai, Bahasa Indonesia, Vietnamese and Khmer on the
plan open for comments. Loaded after the rest of the demo, a day ago, through the same
services as the pages (so the record holds each publication)."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

from sqlalchemy import select

from consult.consultation import services as consultation
from consult.consultation.models import Comment
from consult.documents.models import Document
from consult.extensions import db
from consult.timeutil import clock, utcnow
from consult.translations import services as tr

#: Files of data/translations/ by language: translations of the framework's final text.
FINAL_TRANSLATIONS = {"th": "v3.th.md", "id": "v3.id.md"}

#: The committee's answer to the comment (first words given) in other languages.
ANSWER_TRANSLATIONS = {
    "We welcome the outline and the decision to consult openly.": {
        "th": (
            "ร่างสำหรับการประชุมเชิงปฏิบัติการครั้งที่ 2 จะเผยแพร่พร้อมคำแปลอย่างไม่เป็นทางการ"
            "เป็นภาษาอินโดนีเซีย ภาษามลายู ภาษาเขมร ภาษาลาว ภาษาไทย และภาษาเวียดนาม "
            "และจะรับความคิดเห็นในภาษาใดก็ได้ในบรรดาภาษาเหล่านี้ ในรอบนี้ไม่สามารถจัดหา"
            "งบประมาณสำหรับคำแปลภาษาพม่าได้ สำนักเลขาธิการจะรับความคิดเห็นเป็นภาษาพม่า"
            "และจัดให้มีการแปล"
        ),
        "id": (
            "Rancangan Lokakarya 2 akan diterbitkan bersama terjemahan tidak resmi ke dalam "
            "bahasa Indonesia, bahasa Melayu, bahasa Khmer, bahasa Laos, bahasa Thai, dan "
            "bahasa Vietnam, dan komentar akan diterima dalam bahasa mana pun di antara "
            "bahasa-bahasa tersebut. Terjemahan ke dalam bahasa Burma tidak dapat didanai "
            "pada putaran ini; Sekretariat akan menerima komentar dalam bahasa Burma dan "
            "menerjemahkannya."
        ),
    }
}

#: Comments on the plan open for comments, each in its author's language:
#: (organisation, author, words of the paragraph, kind, language, body, hours ago).
COMMENTS = [
    (
        "mcvn",
        "nattaya.phromma@example.org",
        "within six months of its adoption",
        "comment",
        "th",
        "ขอให้จัดทำสรุปฉบับภาษาที่เข้าใจง่ายเป็นภาษาของกลุ่มชาติพันธุ์ด้วย เช่น ภาษากะเหรี่ยง"
        "และภาษาม้ง เพราะชุมชนบนพื้นที่สูงจำนวนมากอ่านภาษาไทยกลางได้ไม่คล่อง",
        20,
    ),
    (
        "ilt",
        "dewi.kusumawardani@example.org",
        "outreach session a year outside the capital",
        "comment",
        "id",
        "Satu sesi per tahun di luar ibu kota terlalu sedikit untuk negara kepulauan seperti "
        "Indonesia. Kami mengusulkan setidaknya satu sesi di setiap wilayah utama, yang "
        "diselenggarakan bersama organisasi masyarakat sipil setempat.",
        16,
    ),
    (
        "rrla",
        "thuha.nguyen@example.org",
        "printed pocket guide",
        "comment",
        "vi",
        "Chúng tôi đề nghị cuốn cẩm nang bỏ túi cũng được phát hành dưới dạng âm thanh và "
        "bản dễ đọc, để người khiếm thị và người ít biết chữ cũng có thể sử dụng.",
        9,
    ),
    (
        "fcsgw",
        "sreymom.keo@example.org",
        "regional online briefing",
        "question",
        "km",
        "តើកិច្ចប្រជុំពន្យល់តាមអ៊ីនធឺណិតនឹងមានការបកប្រែផ្ទាល់មាត់ជាភាសាខ្មែរដែរឬទេ? "
        "អង្គការសហគមន៍ជាច្រើននៅកម្ពុជាមិនអាចចូលរួមជាភាសាអង់គ្លេសបានទេ។",
        5,
    ),
]


def _text(name: str) -> str:
    folder = resources.files("consult.demo") / "data" / "translations"
    return (folder / name).read_text(encoding="utf-8")


def load_translations(doc: Document, orgs: dict, users: dict, chair, open_slug: str | None) -> str:
    """Publish the final version's translations, translate one answer, post the
    comments in other languages; returns a sentence for the demo's summary."""
    now = utcnow()
    final = doc.latest
    with clock(now - timedelta(days=1)):
        for language, name in FINAL_TRANSLATIONS.items():
            t = tr.import_translation(final, language, _text(name), by=chair)
            tr.publish_translation(t, by=chair)
        for first_words, texts in ANSWER_TRANSLATIONS.items():
            c = db.session.scalar(
                select(Comment).where(Comment.body.startswith(first_words)).limit(1)
            )
            if c is not None and c.response is not None:
                for language, text in texts.items():
                    tr.translate_response(c.response, language, text, by=chair)
    posted = 0
    plan = db.session.scalar(select(Document).where(Document.slug == open_slug))
    if plan is not None and plan.latest is not None:
        version = plan.latest
        for org, author, words, kind, language, body, hours in COMMENTS:
            paragraph = next((p for p in version.paragraphs if words in p.text), None)
            if paragraph is None or org not in orgs or author not in users:
                continue
            with clock(now - timedelta(hours=hours)):
                consultation.post_comment(
                    version=version,
                    paragraph=paragraph,
                    organisation=orgs[org],
                    kind=kind,
                    body=body,
                    by=users[author],
                    language=language,
                )
            posted += 1
    return (
        f" The final text is translated into {', '.join(FINAL_TRANSLATIONS)};"
        f" {posted} comments are in other languages."
    )
