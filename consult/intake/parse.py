"""Reading a received message: pure functions on bytes and strings, no Flask, no database.

What a message says about itself — who sent it (and whether SPF or DKIM failed), which
consultation it is for (the recipient address or the mail it replies to), which
paragraph (a number in the subject, or the words it quotes), whether it is an automatic
message that must never be answered (auto-replies, bounces, lists), and its files.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr


@dataclass
class File:
    name: str
    content_type: str
    data: bytes


@dataclass
class Parsed:
    message_id: str
    sender: str
    sender_name: str
    recipients: list[str]
    subject: str
    #: The sender's own words: quoted lines, the "On … wrote:" line and the signature
    #: left out.
    body: str
    #: The lines the sender quoted (without their "> ").
    quoted: str
    #: Message-IDs this message answers (In-Reply-To, then References).
    replies_to: list[str]
    files: list[File] = field(default_factory=list)
    #: Why the message is automatic (never acknowledged), or None.
    loop: str | None = None
    #: Which check failed (e.g. "spf=fail"), or None.
    auth_failure: str | None = None


def parse(raw: bytes, *, envelope_from: str | None = None, envelope_to=()) -> Parsed:
    msg = message_from_bytes(raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    name, sender = parseaddr(str(msg.get("From", "")))
    recipients = [a for _n, a in getaddresses([str(v) for v in msg.get_all("To", [])])]
    recipients += [a for _n, a in getaddresses([str(v) for v in msg.get_all("Cc", [])])]
    # The envelope says where the message was really delivered (Bcc, forwarding).
    recipients = _unique([*(envelope_to or ()), *recipients])
    text = _text(msg)
    own, quoted = split_quoted(text)
    return Parsed(
        message_id=str(msg.get("Message-ID", "")).strip()[:300],
        sender=sender.strip().lower()[:254],
        sender_name=name.strip()[:200],
        recipients=[r.strip().lower() for r in recipients if r.strip()],
        subject=" ".join(str(msg.get("Subject", "")).split())[:500],
        body=own,
        quoted=quoted,
        replies_to=_message_ids(msg),
        files=_files(msg),
        loop=loop_reason(msg, envelope_from=envelope_from, sender=sender),
        auth_failure=auth_failure(msg),
    )


def _unique(items):
    seen, out = set(), []
    for i in items:
        if i and i.lower() not in seen:
            seen.add(i.lower())
            out.append(i)
    return out


# --- automatic messages --------------------------------------------------------------------------

_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|noreply-dmarc-support)@", re.I)


def loop_reason(msg: EmailMessage, *, envelope_from: str | None, sender: str) -> str | None:
    """Why `msg` is an automatic message (RFC 3834 auto-replies, bounces, list and bulk
    mail), which is dropped and never answered: answering it could start a mail loop."""
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        value = str(msg.get(header, "")).strip().lower()
        if value and (header != "X-Auto-Response-Suppress" or "all" in value or "oof" in value):
            return f"{header}: {value}"
    if envelope_from is not None and envelope_from.strip("<> ") == "":
        return "a bounce (empty return path)"
    if str(msg.get("Return-Path", "x")).strip() == "<>":
        return "a bounce (empty return path)"
    if _DAEMONS.match(sender or "") or _DAEMONS.match(envelope_from or ""):
        return f"a bounce (from {sender or envelope_from})"
    if msg.get_content_type() == "multipart/report":
        return "a delivery or read report"
    if msg.get("List-Id") or msg.get("List-Unsubscribe"):
        return "mailing-list mail"
    return None


# --- forged senders ------------------------------------------------------------------------------

_AUTH_FAIL = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*(fail|permerror)\b", re.I)


def auth_failure(msg: EmailMessage) -> str | None:
    """The SPF, DKIM or DMARC check that failed, as the receiving server wrote it in
    Authentication-Results (or Received-SPF); None when none failed or none was made."""
    for value in msg.get_all("Authentication-Results", []):
        m = _AUTH_FAIL.search(str(value))
        if m:
            return f"{m.group(1).lower()}={m.group(2).lower()}"
    for value in msg.get_all("Received-SPF", []):
        if str(value).strip().lower().startswith(("fail", "permerror")):
            return "spf=fail"
    return None


# --- the text ------------------------------------------------------------------------------------


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError):  # an unknown charset
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if part.get_content_type() == "text/html":
        text = _html_text(text)
    return text.replace("\r\n", "\n").replace("\x00", "")


def _html_text(source: str) -> str:
    source = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", source)
    source = re.sub(r"(?is)<blockquote\b[^>]*>(.*?)</blockquote>", _quote_block, source)
    source = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</h\d>", "\n", source)
    return html.unescape(re.sub(r"<[^>]+>", "", source))


def _quote_block(m: re.Match) -> str:
    inner = html.unescape(re.sub(r"<[^>]+>", "", m.group(1)))
    return "\n" + "\n".join("> " + line for line in inner.splitlines()) + "\n"


_WROTE = re.compile(r"^(On|Le|Am|El)\b.{0,200}\b(wrote|a écrit|schrieb|escribió)\s*:\s*$", re.I)


def split_quoted(text: str) -> tuple[str, str]:
    """(the sender's own words, the quoted text): lines starting with ">" are quoted;
    an "On … wrote:" line and everything after a signature mark ("-- ") are dropped."""
    own, quoted = [], []
    for line in text.split("\n"):
        if line.rstrip() == "--":  # "-- " opens a signature (RFC 3676)
            break
        stripped = line.lstrip()
        if stripped.startswith(">"):
            quoted.append(re.sub(r"^(\s*>)+\s?", "", line))
        elif _WROTE.match(stripped):
            continue
        else:
            own.append(line)
    return _squeeze("\n".join(own)), _squeeze("\n".join(quoted))


def _squeeze(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _message_ids(msg: EmailMessage) -> list[str]:
    ids = []
    for header in ("In-Reply-To", "References"):
        ids += re.findall(r"<[^<>\s]+>", str(msg.get(header, "")))
    return _unique(ids)


def _files(msg: EmailMessage) -> list[File]:
    out = []
    for part in msg.iter_attachments():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        data = part.get_payload(decode=True) or b""
        out.append(File(part.get_filename() or "", part.get_content_type(), data))
    return out


# --- what the message is about -------------------------------------------------------------------

_NUMBER = r"(\d{1,3}(?:\.\d{1,3}){0,4})"
_PARAGRAPH_WORD = re.compile(
    rf"(?:¶|§|\bpara(?:graph)?s?\b\.?|\bpar\.)\s*(?:no\.?\s*)?{_NUMBER}(?![\d.]*\d)", re.I
)
_RE_NUMBER = re.compile(rf"\bre\b\s*:?\s*{_NUMBER}(?![\d.]*\d)", re.I)


def paragraph_number(subject: str) -> str | None:
    """The paragraph number the subject names: "¶ 2.3", "paragraph 2.3", "para. 4",
    "§ 1.2" or "re 2.3" (also after "Re:"); None when it names none."""
    m = _PARAGRAPH_WORD.search(subject) or _RE_NUMBER.search(subject)
    return m.group(1).rstrip(".") if m else None


def consultation_slug(recipients: list[str], domain: str) -> tuple[str, str] | None:
    """(slug, address) of the first recipient at the mail-in `domain`; the slug is the
    local part without a "+tag"."""
    if not domain:
        return None
    for address in recipients:
        local, at, host = address.rpartition("@")
        if at and host.lower() == domain.lower() and local:
            return local.split("+", 1)[0].lower(), address
    return None


_OUTBOX_ID = re.compile(r"consult-(\d{1,12})@")


def outbox_ids(message_ids: list[str]) -> list[int]:
    """Ids of our own outbox mails (Message-ID "…consult-<id>@…", consult.mail.outbox)
    that a reply names in In-Reply-To or References."""
    out = []
    for mid in message_ids:
        m = _OUTBOX_ID.search(mid)
        if m:
            out.append(int(m.group(1)))
    return out


_WORDS = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(text)]


def best_quoted(quoted: str, paragraphs: list[tuple[int, str]], *, least: int = 6) -> int | None:
    """The id of the paragraph whose words the quoted text holds most of, in order: a
    paragraph counts when a run of at least `least` of its words (or all of a shorter
    one) appears in the quote. None when none does."""
    q = " " + " ".join(words(quoted)) + " "
    if q.strip() == "":
        return None
    best, best_len = None, 0
    for pid, text in paragraphs:
        w = words(text)
        if not w:
            continue
        run = len(w) if len(w) < least else least
        for start in range(0, len(w) - run + 1):
            if " " + " ".join(w[start : start + run]) + " " in q:
                found = _longest_run(w, q, start, run)
                if found > best_len:
                    best, best_len = pid, found
                break
    return best


def _longest_run(w: list[str], q: str, start: int, run: int) -> int:
    end = start + run
    while end < len(w) and " " + " ".join(w[start : end + 1]) + " " in q:
        end += 1
    return end - start
