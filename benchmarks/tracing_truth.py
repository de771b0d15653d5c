"""Uptake and lineage against the truth of real drafting histories, through the product.

Run: .venv/bin/python benchmarks/tracing_truth.py [--only FOLDER] [--corpus DIR]
     [--database URL] [--wrong N]
(without --database: a new SQLite file under /tmp; the schema is made by the migrations).

Every folder of the corpus (../shared/corpus by default) that holds a suggestions.jsonl
is replayed as a consultation: a secretariat account creates the document, a member of
one organisation posts each real proposed edit as a suggestion through the JSON API
(POST /api/v1/paragraphs/<id>/comments), the secretariat closes the version and answers
each one through the API ("accepted" when the pull request was merged, else "noted"),
imports the next real version and publishes it (publication measures and stores the
uptake). The uptake is read back through the API (GET /api/v1/comments/<id>) and
compared with the folder's truth. Prints, per document and overall:

- the confusion matrix of the product's labels (rows) against the truth (columns);
- label accuracy where the truth is decidable: a hand-checked label, or an automatic
  one, which may allow two labels when the corpus's rule could not tell some of the
  edit's regions (truth_range); and, beside it, the accuracy against every decidable
  label taken as given;
- suggestions labelled taken_up or partly whose inserted words are absent from the
  next version (inserted words: a word diff of the plain text of `old` → `new`,
  looked for in the next version's plain text);
- lineage precision and recall of the stored lineage links against the hand-checked
  truth in tests/data/lineage/<folder>.json, when there is one;
- the wrong cases with their word diff and the product's evidence; the timings.

A proposed edit names `old`, exact text of vN.md at `old_offset`. It becomes a
suggestion on the paragraph of the imported version whose source holds it: one whole
paragraph → that paragraph with `new` as its wording; part of a paragraph (a table
row) → the paragraph's source with `old` replaced by `new`; several paragraphs →
the blocks that `old` and `new` share at either end are dropped and the suggestion goes
to the first changed paragraph (for inserted blocks: to the paragraph before them, with
them appended). A suggestion the product refuses is reported as "refused".
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus"
LINEAGE_TRUTH = ROOT / "tests" / "data" / "lineage"

TRUTHS = ("taken_up", "partly", "not_taken_up", "undecidable")
DECIDABLE = TRUTHS[:3]
#: The columns of the confusion matrix: the three labels, the two ranges an automatic
#: truth can only narrow the outcome to (see truth_range), and undecidable.
COLUMNS = ("taken_up", "partly", "not_taken_up", "up|partly", "not|partly", "undecidable")
LABELS = ("taken_up", "partly", "not_taken_up", "refused", "none")
PASSWORD = "tracing-truth-benchmark"  # noqa: S105 - throwaway accounts of a throwaway database


# --- the corpus -----------------------------------------------------------------------------


def folders(corpus: Path) -> list[Path]:
    """The corpus folders that hold proposed edits with their outcome."""
    return sorted(d for d in corpus.iterdir() if (d / "suggestions.jsonl").is_file())


def version_texts(folder: Path) -> list[str]:
    """v1.md … vN.md, oldest first."""
    found = {}
    for f in folder.glob("v*.md"):
        m = re.fullmatch(r"v(\d+)\.md", f.name)
        if m:
            found[int(m.group(1))] = f.read_text(encoding="utf-8")
    return [found[n] for n in sorted(found)]


def read_suggestions(folder: Path) -> list[dict]:
    with (folder / "suggestions.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def version_number(s: dict) -> int:
    return int(str(s["version"]).lstrip("vV"))


# --- plain words and word diffs (our own, independent of the product) ------------------------

_MARKUP = (
    (re.compile(r"<!--.*?-->", re.S), " "),
    (re.compile(r"\{:?[^{}\n]*\}"), " "),  # kramdown attribute lists: {: .class} {.table}
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # a link keeps its words, not its URL
    (re.compile(r"<[^<>\n]+>"), " "),  # HTML tags and autolinks
    (re.compile(r"^[ \t]*(?:#{1,6}|[-*+]|\d+[.)])[ \t]+", re.M), " "),  # heading, list markers
)
_WORD = re.compile(r"\w+(?:'\w+)*")
_WORD_OR_BREAK = re.compile(r"\w+(?:'\w+)*|\n|[.?!;:]+(?=\s|$)")
_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def _plain(markdown: str) -> str:
    markdown = markdown.translate(_QUOTES)
    for pattern, repl in _MARKUP:
        markdown = pattern.sub(repl, markdown)
    return markdown


def words(markdown: str) -> list[str]:
    """The words of a Markdown text: markers, pipes, URLs and punctuation do not count;
    typographic apostrophes are plain ones."""
    return _WORD.findall(_plain(markdown))


def tokens(markdown: str) -> list[str]:
    """Words and runs of punctuation of the Markdown source as it is (for showing diffs)."""
    return _TOKEN.findall(markdown)


def _words_and_breaks(markdown: str) -> list[str]:
    """words(), with "\n" where a sentence or a line ends."""
    return ["\n" if t[0] in ".?!;:" else t for t in _WORD_OR_BREAK.findall(_plain(markdown))]


def inserted_regions(old: str, new: str) -> list[list[str]]:
    """The runs of words that `new` has where the aligned `old` has other words or none,
    cut where a sentence or a line ends (a run does not span two of them)."""
    a, b = _words_and_breaks(old), _words_and_breaks(new)
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    regions: list[list[str]] = []
    for tag, _, _, j1, j2 in ops:
        if tag in ("insert", "replace"):
            run: list[str] = []
            for w in [*b[j1:j2], "\n"]:
                if w != "\n":
                    run.append(w)
                elif run:
                    regions.append(run)
                    run = []
    return regions


def word_diff(old: str, new: str, context: int = 3, limit: int = 400) -> str:
    """The changed words and punctuation of the Markdown old → new as
    [-deleted-]{+inserted+}, with a little context."""
    a, b = tokens(old), tokens(new)
    if a == b:
        return "(no change but white space)"
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    out: list[str] = []
    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            same = a[i1:i2]
            if len(same) > 2 * context:
                head = same[:context] if n else []
                tail = same[-context:] if n < len(ops) - 1 else []
                out.append(" ".join([*head, "…", *tail]).strip())
            else:
                out.append(" ".join(same))
            continue
        if i2 > i1:
            out.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + " ".join(b[j1:j2]) + "+}")
    text = " ".join(x for x in out if x)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Presence:
    """Whether runs of words occur, in order, in a text's words (in any case: a word
    capitalised as a list item is still there)."""

    def __init__(self, text_words: list[str]) -> None:
        folded = [w.casefold() for w in text_words]
        self.vocabulary = set(folded)
        self.joined = "\x00" + "\x00".join(folded) + "\x00"

    def has_run(self, run: list[str]) -> bool:
        return ("\x00" + "\x00".join(w.casefold() for w in run) + "\x00") in self.joined

    def region_present(self, region: list[str]) -> bool:
        """A one-word insert: the word occurs. Longer: at least half of its words (two or
        more) occur as one phrase, in order."""
        if len(region) == 1:
            return region[0].casefold() in self.vocabulary
        size = max(2, math.ceil(len(region) / 2))
        return any(self.has_run(region[k : k + size]) for k in range(len(region) - size + 1))


# --- where a proposed edit goes --------------------------------------------------------------


def _occurrences(haystack: str, needle: str) -> list[int]:
    out, at = [], haystack.find(needle)
    while at >= 0 and needle:
        out.append(at)
        at = haystack.find(needle, at + 1)
    return out


def locate(raw: str, joined: str, old: str, offset: int) -> tuple[int, int] | None:
    """Where `old` (at `offset` of the raw file) is in the text joined from the stored
    paragraphs: the same occurrence when both hold it equally often, else the nearest;
    failing an exact match, the same words with any white space between them."""
    in_raw = _occurrences(raw, old)
    in_joined = _occurrences(joined, old)
    if in_joined:
        if len(in_raw) == len(in_joined) and offset in in_raw:
            at = in_joined[in_raw.index(offset)]
        else:
            at = min(in_joined, key=lambda k: abs(k - offset))
        return at, at + len(old)
    tokens = old.split()
    if not tokens:
        return None
    pattern = re.compile(r"\s+".join(re.escape(t) for t in tokens))
    found = [(m.start(), m.end()) for m in pattern.finditer(joined)]
    return min(found, key=lambda m: abs(m[0] - offset)) if found else None


_BLOCK_START = re.compile(r"\n[ \t]*\n\s*|\n(?=[ \t]*(?:[-*+]|\d+[.)]|#{1,6})[ \t])")


def blocks_of(text: str) -> list[tuple[int, int]]:
    """(start, end) of the blocks of a Markdown fragment: parts between blank lines, and
    each line that starts a list item or a heading."""
    out, at = [], 0
    for m in _BLOCK_START.finditer(text):
        if text[at : m.start()].strip():
            out.append((at, m.start()))
        at = m.end()
    if text[at:].strip():
        out.append((at, len(text.rstrip())))
    return out


def plan(
    joined: str, spans: list[tuple[int, int]], start: int, end: int, new: str
) -> tuple[int, str] | str:
    """(index of the paragraph, its suggested wording) for `new` replacing joined[start:end],
    or why there is none.

    Inside one paragraph: its source with the edited text replaced. Across several: the
    blocks with the same words at either end of `old` and `new` (a renumbered list item
    is the same block) are dropped; what `new` has in place of the others is the wording
    of the first of them, or, when `new` only adds blocks, is added to the paragraph
    before them (after the last one kept at the start; else before the first)."""
    hit = [i for i, (a, b) in enumerate(spans) if a < end and b > start]
    if not hit:
        return "the edited text is not inside any paragraph"
    if len(hit) == 1:
        a, b = spans[hit[0]]
        src = joined[a:b]
        return hit[0], src[: max(start, a) - a] + new + src[min(end, b) - a :]
    pieces = [joined[max(start, spans[i][0]) : min(end, spans[i][1])] for i in hit]
    parts = blocks_of(new)
    m, nb = len(pieces), len(parts)
    same = [words(p) for p in pieces], [words(new[x:y]) for x, y in parts]
    k = 0
    while k < min(m, nb) and same[0][k] == same[1][k]:
        k += 1
    t = 0
    while t < min(m, nb) - k and same[0][m - 1 - t] == same[1][nb - 1 - t]:
        t += 1
    added = new[parts[k][0] : parts[nb - t - 1][1]] if nb - t > k else ""
    if k + t == m:  # `new` only adds blocks (or changes nothing)
        if k == 0:
            a, b = spans[hit[0]]
            gap = new[parts[nb - t - 1][1] : parts[nb - t][0]] if added else ""
            return hit[0], added + gap + joined[a:b]
        a, b = spans[hit[k - 1]]
        gap = new[parts[k - 1][1] : parts[k][0]] if added else ""
        return hit[k - 1], joined[a:b] + gap + added
    first, last = spans[hit[k]], spans[hit[m - t - 1]]
    head = joined[first[0] : start] if k == 0 else ""
    tail = joined[end : last[1]] if t == 0 else ""
    return hit[k], head + added + tail


# --- what the truth allows ---------------------------------------------------------------


def truth_range(s: dict) -> frozenset[str]:
    """The labels the corpus's truth allows for one proposed edit (empty: undecidable).

    A hand-checked label is one label. An automatic label is computed from the states
    of the edit's changed regions against the next version (the folder's README):
    "taken", "kept", or "other" when the rule could tell neither (a neighbouring edit
    broke the three words of context it looks for, or the words moved). The rule then
    labels by the regions it could tell: some taken and none kept gives "partly" even
    when the undetermined regions may all have been taken, and none taken with some
    kept gives "not_taken_up" even when an undetermined one may have been taken. So
    an automatic label that rests on undetermined regions only narrows the outcome:
    taken and undetermined regions allow "taken_up" or "partly"; kept and undetermined
    allow "not_taken_up" or "partly"; taken and kept give "partly" whatever the rest
    were. (The README's hand checks bear this out: of the hand-checked edits whose
    automatic regions were taken and undetermined, one was taken up and one partly.)
    This reads the truth's own rule; it does not depend on the product's labels.
    """
    truth = s.get("truth", "undecidable")
    if truth not in DECIDABLE:
        return frozenset()
    states = set(s.get("region_states") or ())
    if s.get("hand_checked") or "other" not in states:
        return frozenset({truth})
    if "taken" in states and "kept" in states:
        return frozenset({"partly"})
    if "taken" in states:
        return frozenset({"taken_up", "partly"})
    if "kept" in states:
        return frozenset({"not_taken_up", "partly"})
    return frozenset()


def column(allowed: frozenset[str]) -> str:
    """The confusion matrix's column of a truth range."""
    if len(allowed) == 1:
        return next(iter(allowed))
    if allowed == {"taken_up", "partly"}:
        return "up|partly"
    if allowed == {"not_taken_up", "partly"}:
        return "not|partly"
    return "undecidable"


# --- results ------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    version: int
    truth: str
    edit_kind: str
    merged: bool
    old: str
    new: str
    label: str = "none"
    score: float | None = None
    evidence: object = None
    note: str = ""  # why refused, or why there is no label
    paragraph: str = ""  # the display number of the paragraph it was posted on
    inserted: list[list[str]] = field(default_factory=list)
    absent: bool | None = None  # inserted words absent from the next version (None: inserts none)
    allowed: frozenset[str] = frozenset()  # the labels the truth allows (truth_range)

    @property
    def decidable(self) -> bool:
        return bool(self.allowed)

    @property
    def wrong(self) -> bool:
        return self.decidable and self.label not in self.allowed

    @property
    def strictly_wrong(self) -> bool:
        """Wrong against the corpus's single label, taken as given."""
        return self.truth in DECIDABLE and self.label != self.truth

    @property
    def credited_absent(self) -> bool:
        return self.label in ("taken_up", "partly") and self.absent is True


@dataclass
class LineageScore:
    pair: str
    found: int
    true: int
    hit: int
    either: int
    missing: int

    @property
    def precision(self) -> float:
        return self.hit / max(self.found, 1)

    @property
    def recall(self) -> float:
        return self.hit / max(self.true, 1)


@dataclass
class DocResult:
    folder: str
    versions: int
    cases: list[Case]
    lineage: list[LineageScore] | None  # None: no lineage truth for this document
    timings: list[tuple[str, float]]

    @property
    def decidable(self) -> list[Case]:
        return [c for c in self.cases if c.decidable]

    @property
    def accuracy(self) -> float:
        d = self.decidable
        return sum(not c.wrong for c in d) / max(len(d), 1)

    @property
    def credited_absent(self) -> list[Case]:
        return [c for c in self.cases if c.credited_absent]


# --- lineage truth ------------------------------------------------------------------------


def _keys(texts: list[str]) -> list[str]:
    """The truth files' names of paragraphs: the first 60 characters of the plain text,
    white space collapsed, "#k" for the k-th paragraph with the same start."""
    seen: Counter = Counter()
    out = []
    for t in texts:
        k = re.sub(r"\s+", " ", t).strip()[:60].rstrip()
        seen[k] += 1
        out.append(k if seen[k] == 1 else f"{k}#{seen[k]}")
    return out


def lineage_truth(
    entry: dict, old: list[str], new: list[str]
) -> tuple[set[tuple[int, int]], set[tuple[int, int]], int]:
    """(true pairs, pairs either way, names not found) for one version pair of a truth
    file: "links" plus the identical paragraphs that occur once in each version, less
    "not"; "either" counts neither way."""
    ko = {k: i for i, k in enumerate(_keys(old))}
    kn = {k: j for j, k in enumerate(_keys(new))}
    missing = 0

    def resolve(pairs) -> set[tuple[int, int]]:
        nonlocal missing
        out = set()
        for a, b in pairs:
            if a in ko and b in kn:
                out.add((ko[a], kn[b]))
            else:
                missing += 1
        return out

    co, cn = Counter(t.strip() for t in old), Counter(t.strip() for t in new)
    at = {t.strip(): j for j, t in enumerate(new)}
    twins = {
        (i, at[t.strip()]) for i, t in enumerate(old) if co[t.strip()] == 1 and cn[t.strip()] == 1
    }
    true = (twins - resolve(entry.get("not", []))) | resolve(entry.get("links", []))
    return true, resolve(entry.get("either", [])), missing


# --- the replay ---------------------------------------------------------------------------


class Clock:
    """Named timings: `with clock("what"): ...`."""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def __call__(self, label: str):
        start = time.perf_counter()
        yield
        self.timings.append((label, time.perf_counter() - start))


def run_document(app, folder: Path) -> DocResult:
    """Replay one corpus folder through the product (inside an app context) and compare."""
    from sqlalchemy import select

    from consult.accounts import services as accounts
    from consult.accounts.models import User
    from consult.accounts.services import issue_token
    from consult.documents import services as docs
    from consult.documents.models import Document, Version
    from consult.documents.splitter import join
    from consult.extensions import db
    from consult.timeutil import utcnow

    clock = Clock()
    client = app.test_client()
    texts = version_texts(folder)
    suggestions = read_suggestions(folder)
    truth_file = LINEAGE_TRUTH / f"{folder.name}.json"
    truth_pairs = (
        json.loads(truth_file.read_text(encoding="utf-8")).get("pairs", {})
        if truth_file.is_file()
        else None
    )
    tag = secrets.token_hex(3)
    slug = re.sub(r"[^a-z0-9-]+", "-", folder.name.lower())[:100].strip("-") + f"-{tag}"

    with clock("set-up (accounts, document)"):
        sec = accounts.create_user(
            f"secretariat-{tag}@example.org", PASSWORD, role="secretariat", name="Secretariat"
        )
        org = accounts.create_organisation(
            f"cso-{tag}", f"Civil society organisation {tag}", verified=True
        )
        member = accounts.create_user(
            f"member-{tag}@example.org", PASSWORD, role="cso", name="Member", organisation=org
        )
        title = next(
            (w.lstrip("#").strip() for w in texts[0].splitlines() if w.startswith("# ")),
            folder.name.replace("-", " ").title(),
        )
        doc = docs.create_document(slug, title[:300], by=sec, committee="Drafting committee")
        db.session.commit()
        sec_id, doc_id = sec.id, doc.id
        as_member = {"Authorization": f"Bearer {issue_token(member)}"}
        as_sec = {"Authorization": f"Bearer {issue_token(sec)}"}
        db.session.commit()

    cases: list[Case] = []
    posted: dict[int, Case] = {}  # comment id → case
    lineage: list[LineageScore] = []
    by_version: dict[int, list[dict]] = {}
    for s in suggestions:
        by_version.setdefault(version_number(s), []).append(s)

    def api(method: str, url: str, headers: dict, body: dict | None = None):
        db.session.remove()  # a request starts with an empty session, as in production
        return client.open(url, method=method, headers=headers, json=body)

    def reload(n: int) -> Version:
        return db.session.scalars(
            select(Version).where(Version.document_id == doc_id, Version.number == n)
        ).one()

    def secretariat():
        return db.session.get(User, sec_id)

    for n, raw in enumerate(texts, start=1):
        last = n == len(texts)
        with clock(f"v{n}: import and publish"):
            document = db.session.get(Document, doc_id)
            v = docs.import_version(document, raw, by=secretariat(), label=f"v{n}")
            docs.publish(
                v, by=secretariat(), closes_at=None if last else utcnow() + timedelta(days=30)
            )
            db.session.commit()
        if n > 1 and truth_pairs is not None:
            lineage.append(_lineage_score(reload(n - 1), reload(n), truth_pairs))
        if last:
            break
        version = reload(n)
        paragraphs = list(version.paragraphs)
        joined = join([(p.source, p.blank_before) for p in paragraphs])
        spans, at = [], 0
        for p in paragraphs:
            at = joined.find(p.source, at)
            spans.append((at, at + len(p.source)))
            at += len(p.source)
        next_words = Presence(words(texts[n]))
        ids = [(p.id, p.number) for p in paragraphs]
        todo = by_version.get(n, [])
        with clock(f"v{n}: post {len(todo)} suggestions through the API"):
            for s in todo:
                case = Case(
                    id=s["id"],
                    version=n,
                    truth=s.get("truth", "undecidable"),
                    edit_kind=s.get("edit_kind", ""),
                    merged=bool(s.get("merged")),
                    old=s["old"],
                    new=s["new"],
                    inserted=inserted_regions(s["old"], s["new"]),
                    allowed=truth_range(s),
                )
                if case.inserted:
                    case.absent = not any(next_words.region_present(r) for r in case.inserted)
                cases.append(case)
                where = locate(raw, joined, s["old"], int(s.get("old_offset") or 0))
                target = (
                    plan(joined, spans, *where, s["new"])
                    if where
                    else "its old text is not in the imported version"
                )
                if isinstance(target, str):
                    case.note = f"not posted: {target}"
                    continue
                index, wording = target
                pid, case.paragraph = ids[index]
                resp = api(
                    "POST",
                    f"/api/v1/paragraphs/{pid}/comments",
                    as_member,
                    {
                        "kind": "suggestion",
                        "body": (s.get("commit_subject") or "").strip()
                        or f"Proposed wording ({s.get('url') or s['id']}).",
                        "suggested_text": wording,
                    },
                )
                if resp.status_code == 201:
                    posted[resp.get_json()["id"]] = case
                else:
                    case.label = "refused"
                    error = (resp.get_json(silent=True) or {}).get("error") or {}
                    case.note = f"{resp.status_code}: {error.get('message') or resp.status}"
        with clock(f"v{n}: close and answer {len(todo)} suggestions through the API"):
            slug_url = f"/api/v1/documents/{slug}/versions/{n}"
            resp = api("POST", f"{slug_url}/close", as_sec, {"reason": "The next real version."})
            if resp.status_code != 200:
                raise RuntimeError(f"closing v{n} failed: {resp.get_data(as_text=True)}")
            for cid, case in posted.items():
                if case.version != n:
                    continue
                resp = api(
                    "POST",
                    f"/api/v1/comments/{cid}/response",
                    as_sec,
                    {
                        "decision": "accepted" if case.merged else "noted",
                        "reason": "The pull request was merged."
                        if case.merged
                        else "The pull request was not merged.",
                    },
                )
                if resp.status_code != 201:
                    raise RuntimeError(f"answering {case.id} failed: {resp.get_data(as_text=True)}")
    db.session.remove()

    with clock("read the uptake of every suggestion through the API"):
        for cid, case in posted.items():
            resp = client.get(f"/api/v1/comments/{cid}")
            up = resp.get_json().get("uptake")
            if not up:
                case.note = "no uptake measured"
                continue
            case.label = up.get("label") or "none"
            case.score = up.get("score")
            case.evidence = up.get("evidence")
    for s in suggestions:
        if not 1 <= version_number(s) < len(texts):
            cases.append(
                Case(
                    id=s["id"],
                    version=version_number(s),
                    truth=s.get("truth", "undecidable"),
                    edit_kind=s.get("edit_kind", ""),
                    merged=bool(s.get("merged")),
                    old=s["old"],
                    new=s["new"],
                    note="not posted: no next version to measure it against",
                    allowed=truth_range(s),
                )
            )
    return DocResult(
        folder.name, len(texts), cases, lineage if truth_pairs else None, clock.timings
    )


def _lineage_score(old, new, truth_pairs: dict) -> LineageScore:
    """The stored lineage links of versions old → new against the truth file's pairs."""
    from sqlalchemy import select

    from consult.documents.models import LineageLink
    from consult.extensions import db

    pair = f"{old.number}-{new.number}"
    old_ps, new_ps = list(old.paragraphs), list(new.paragraphs)
    o_at = {p.id: i for i, p in enumerate(old_ps)}
    n_at = {p.id: j for j, p in enumerate(new_ps)}
    found = {
        (o_at[a], n_at[b])
        for b, a in db.session.execute(
            select(LineageLink.paragraph_id, LineageLink.predecessor_id).where(
                LineageLink.version_id == new.id,
                LineageLink.paragraph_id.is_not(None),
                LineageLink.predecessor_id.is_not(None),
            )
        )
    }
    entry = truth_pairs.get(pair)
    if entry is None:
        return LineageScore(pair, len(found), 0, 0, 0, 0)
    true, either, missing = lineage_truth(entry, [p.text for p in old_ps], [p.text for p in new_ps])
    counted = found - either
    return LineageScore(
        pair, len(counted), len(true - either), len(counted & true), len(either), missing
    )


def run(app, paths: list[Path]) -> list[DocResult]:
    """Replay each folder in turn, in an app context of `app`."""
    with app.app_context():
        return [run_document(app, p) for p in paths]


# --- printing -----------------------------------------------------------------------------


def confusion(cases: list[Case]) -> str:
    table = Counter((c.label, column(c.allowed)) for c in cases)
    width = max(len(x) for x in (*LABELS, *COLUMNS)) + 2
    lines = [
        "product \\ truth".ljust(width)
        + "".join(t.rjust(width) for t in COLUMNS)
        + "total".rjust(8)
    ]
    for label in LABELS:
        row = [table[(label, t)] for t in COLUMNS]
        lines.append(
            label.ljust(width) + "".join(str(x).rjust(width) for x in row) + str(sum(row)).rjust(8)
        )
    totals = [sum(table[(lb, t)] for lb in LABELS) for t in COLUMNS]
    lines.append(
        "total".ljust(width)
        + "".join(str(x).rjust(width) for x in totals)
        + str(sum(totals)).rjust(8)
    )
    return "\n".join(lines)


def figures(cases: list[Case]) -> str:
    d = [c for c in cases if c.decidable]
    right = sum(not c.wrong for c in d)
    absent = [c for c in cases if c.credited_absent]
    refused = sum(c.label == "refused" for c in cases)
    strict = [c for c in cases if c.truth in DECIDABLE]
    strict_right = sum(not c.strictly_wrong for c in strict)
    return (
        f"label accuracy where the truth is decidable: {right / max(len(d), 1):.3f} "
        f"({right}/{len(d)})\n"
        f"label accuracy against every decidable label as given (automatic labels of "
        f"undetermined regions too): {strict_right / max(len(strict), 1):.3f} "
        f"({strict_right}/{len(strict)})\n"
        f"taken_up or partly with inserted words absent from the next version: {len(absent)}"
        + (f" ({', '.join(c.id.split('#')[-1] for c in absent)})" if absent else "")
        + f"\nrefused by the product: {refused}"
    )


def describe(case: Case) -> str:
    score = f"{case.score:.2f}" if isinstance(case.score, int | float) else "-"
    lines = [
        f"  {case.id} (v{case.version}, {case.edit_kind}, ¶{case.paragraph or '?'}, "
        f"{'merged' if case.merged else 'not merged'}): truth {column(case.allowed)}, "
        f"product {case.label} {score}"
        + (" [inserted words absent from the next version]" if case.absent else "")
    ]
    lines.append(f"    diff: {word_diff(case.old, case.new)}")
    if case.note:
        lines.append(f"    note: {case.note}")
    if case.evidence is not None:
        ev = json.dumps(case.evidence, ensure_ascii=False)
        lines.append(f"    evidence: {ev if len(ev) <= 600 else ev[:599] + '…'}")
    return "\n".join(lines)


def report(results: list[DocResult], wrong: int = 20) -> str:
    out: list[str] = []
    for r in results:
        per = Counter(f"v{c.version}" for c in r.cases)
        out.append(
            f"== {r.folder}: {r.versions} versions, {len(r.cases)} suggestions "
            f"({', '.join(f'{k} {v}' for k, v in sorted(per.items()))})"
        )
        out.append(confusion(r.cases))
        out.append(figures(r.cases))
        if r.lineage is None:
            out.append("lineage: no lineage truth")
        else:
            for s in r.lineage:
                out.append(
                    f"lineage {s.pair}: precision {s.precision:.3f} recall {s.recall:.3f} "
                    f"(links found {s.found}, true {s.true}, right {s.hit}; "
                    f"either way {s.either}; truth names not found {s.missing})"
                )
        bad = [c for c in r.cases if c.wrong or c.credited_absent]
        bad.sort(key=lambda c: (not c.credited_absent, c.version, c.id))
        out.append(f"wrong cases ({len(bad)}; showing {min(wrong, len(bad))}):")
        out.extend(describe(c) for c in bad[:wrong])
        near = [c for c in r.cases if c.strictly_wrong and not c.wrong]
        if near:
            out.append(
                "right within the truth's range, not against its label as given: "
                + ", ".join(f"{c.id.split('#')[-1]} ({c.truth}→{c.label})" for c in near)
            )
        unposted = [c for c in r.cases if c.note.startswith("not posted")]
        if unposted:
            out.append(f"not posted ({len(unposted)}):")
            out.extend(f"  {c.id}: {c.note}" for c in unposted)
        out.append("timings: " + ", ".join(f"{k} {t:.2f} s" for k, t in r.timings))
        out.append("")
    if len(results) > 1:
        every = [c for r in results for c in r.cases]
        out.append(f"== all documents: {len(every)} suggestions")
        out.append(confusion(every))
        out.append(figures(every))
        if any(r.lineage for r in results):
            hit = sum(s.hit for r in results for s in r.lineage or [])
            found = sum(s.found for r in results for s in r.lineage or [])
            true = sum(s.true for r in results for s in r.lineage or [])
            out.append(
                f"lineage (all pairs with truth): precision {hit / max(found, 1):.3f} "
                f"recall {hit / max(true, 1):.3f}"
            )
    return "\n".join(out)


def make_app(url: str | None, tmp: Path):
    from consult import create_app

    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]  # the driver we ship
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp / 'truth.db'}",
            "INDEX_DIR": str(tmp / "index"),
            "SERVER_NAME": "localhost",
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
            # The search index is not measured here: its outbox waits for a worker.
            "SEARCH_SYNC": False,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--corpus", type=Path, default=CORPUS, help="corpus root (default: %(default)s)"
    )
    ap.add_argument("--only", action="append", help="only this folder (repeatable)")
    ap.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file)")
    ap.add_argument("--wrong", type=int, default=20, help="wrong cases to print per document")
    args = ap.parse_args()
    paths = folders(args.corpus)
    if args.only:
        paths = [p for p in paths if p.name in args.only]
        missing = set(args.only) - {p.name for p in paths}
        if missing:
            ap.error(f"no folder with suggestions.jsonl: {', '.join(sorted(missing))}")
    if not paths:
        ap.error(f"no folder of {args.corpus} holds a suggestions.jsonl")
    start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="consult-tracing-truth-"))
    app = make_app(args.database, tmp)
    made = time.perf_counter()
    results = run(app, paths)
    print(report(results, wrong=args.wrong))
    end = time.perf_counter()
    print(
        f"app and schema {made - start:.2f} s; replay {end - made:.2f} s; total {end - start:.2f} s"
    )


if __name__ == "__main__":
    main()
