"""A consultation of any size, written straight into a database with bulk inserts.

Run: .venv/bin/python benchmarks/corpus.py --comments 100000 [--database URL]
(without --database: a new SQLite file under /tmp). The schema is made by the
migrations; rows are inserted with SQLAlchemy Core in batches, bypassing the
services (and so the search outbox: index with `reindex`). The same seed gives
the same corpus on SQLite and PostgreSQL.

The text is English-like policy prose: sentences from templates over a domain
vocabulary drawn with Zipf-like weights (a few words everywhere, a long tail of
rare ones), so that term frequencies look like those of a real consultation.
Shape, by default: 4 documents of 3 versions (the latest open for comments, the
others closed), 250 paragraphs a version, 400 organisations in the ten AIPA
countries; comments spread over every version (60 % on the closed ones, where
70 % are answered); a third are suggestions, a fifth quote their paragraph.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, insert  # noqa: E402

from consult.extensions import db  # noqa: E402

NOUNS = (
    "parliament committee consultation submission hearing organisation member secretariat "
    "framework engagement outreach accountability feedback response report youth women "
    "community language translation summary deadline period review budget information access "
    "transparency participation dialogue capacity training resource evaluation citizen "
    "government minister policy law bill amendment article provision clause section chapter "
    "annex schedule process mechanism platform portal website meeting workshop forum network "
    "coalition partner stakeholder expert academic researcher journalist media press record "
    "archive document draft version proposal recommendation comment question suggestion answer "
    "decision reason outcome impact assessment indicator target goal principle right duty "
    "obligation responsibility standard guideline procedure rule regulation protocol agreement "
    "declaration resolution charter statute mandate authority agency office department unit "
    "officer staff official representative delegate chair rapporteur speaker secretary clerk "
    "region province district village city municipality island border country nation state "
    "disability minority migrant worker farmer fisher student teacher elder child family "
    "health education environment climate water land forest energy transport housing labour "
    "trade investment finance tax revenue expenditure audit procurement contract corruption "
    "integrity ethics conflict interest lobbying donation campaign election vote ballot "
    "petition complaint grievance appeal remedy justice court tribunal judge lawyer police "
    "security safety privacy data freedom expression association assembly religion culture "
    "heritage tourism agriculture fishery mining industry business enterprise cooperative "
    "union employer employee wage pension insurance welfare poverty inequality gender equality "
    "inclusion exclusion discrimination violence protection prevention response recovery "
    "disaster emergency pandemic vaccine hospital clinic school university library museum "
    "broadcast radio television newspaper internet connection bandwidth mobile telephone "
    "office hours notice calendar timetable agenda minutes transcript translation interpreter"
).split()
VERBS = (
    "ensure guarantee promote support encourage facilitate enable require establish provide "
    "publish consult review assess monitor evaluate report inform engage involve include "
    "consider address respond answer explain justify clarify define specify amend revise "
    "strengthen improve expand extend reduce limit restrict protect respect recognise "
    "acknowledge coordinate cooperate collaborate share disclose release translate summarise "
    "record document archive notify invite welcome receive submit propose recommend suggest "
    "request demand urge call adopt approve endorse reject delay postpone accelerate simplify "
    "fund finance allocate budget train equip empower represent reach contact"
).split()
ADJECTIVES = (
    "public open transparent accountable inclusive accessible meaningful timely effective "
    "regular annual national regional local rural urban remote indigenous vulnerable "
    "marginalised independent impartial clear simple plain detailed specific general written "
    "oral online offline digital formal informal voluntary mandatory appropriate reasonable "
    "adequate sufficient fair equal full partial early late final interim standing special "
    "joint permanent temporary relevant essential minimum maximum existing new further "
    "additional separate common shared civil political economic social cultural legal "
    "financial technical administrative parliamentary legislative executive judicial"
).split()
ADVERBS = "also further promptly regularly publicly fully openly jointly where".split()
COUNTRIES = ("BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN")
ORG_KINDS = (
    "ngo",
    "network",
    "community",
    "academia",
    "union",
    "professional",
    "media",
    "faith",
    "other",
)
DECISIONS = ("accepted", "partly_accepted", "noted", "not_accepted", "out_of_scope")
EPOCH = datetime(2025, 1, 6, tzinfo=UTC)


_IRREGULAR = {
    "women": "women",
    "media": "media",
    "data": "data",
    "youth": "youth",
    "information": "information",
    "child": "children",
    "press": "press",
}
_SYLLABLES = "ka lo mi ne su ra te vo pa di gu ho an el is om un ber ton gal mar sen dit".split()


def plural(noun: str) -> str:
    if noun in _IRREGULAR:
        return _IRREGULAR[noun]
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


class Prose:
    """Sentences of policy prose from a seeded generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        # A long tail of names (places, programmes, people): each rare, together common.
        names = random.Random(1)
        self.names = sorted(
            {
                "".join(names.choice(_SYLLABLES) for _ in range(names.randint(2, 4))).capitalize()
                for _ in range(8000)
            }
        )
        self._tables = {}
        for name, words in (("n", NOUNS), ("v", VERBS), ("a", ADJECTIVES), ("d", ADVERBS)):
            shuffled = list(words)
            random.Random(len(words)).shuffle(shuffled)  # the same ranks on every run
            weights = list(accumulate(1 / (rank + 1) for rank in range(len(shuffled))))
            self._tables[name] = (shuffled, weights)

    def _w(self, kind: str) -> str:
        if kind == "n" and self.rng.random() < 0.06:
            return self.rng.choice(self.names)
        words, cum = self._tables[kind]
        return self.rng.choices(words, cum_weights=cum)[0]

    def _ns(self) -> str:
        return plural(self._w("n"))

    def sentence(self) -> str:
        r = self.rng.random()
        n, v, a = self._w, self._w, self._w
        if r < 0.3:
            s = f"the {a('a')} {n('n')} shall {v('v')} the {n('n')} of every {n('n')}"
        elif r < 0.5:
            s = (
                f"{self._ns()} and {self._ns()} should {self._w('d')} {v('v')} {a('a')} "
                f"{n('n')} within the {n('n')}"
            )
        elif r < 0.7:
            s = f"we {v('v')} that the {n('n')} {v('v')}s {a('a')} {n('n')} for {self._ns()}"
        elif r < 0.85:
            s = (
                f"the {n('n')} of the {a('a')} {n('n')} must {v('v')} {n('n')} "
                f"and {a('a')} {n('n')}"
            )
        else:
            s = f"please {v('v')} the {n('n')} on {a('a')} {n('n')} before the {n('n')}"
        return s[0].upper() + s[1:] + "."

    def text(self, low: int, high: int) -> str:
        out, words = [], 0
        target = self.rng.randint(low, high)
        while words < target:
            s = self.sentence()
            out.append(s)
            words += s.count(" ") + 1
        return " ".join(out)


@dataclass
class Summary:
    documents: int
    versions: int
    paragraphs: int
    organisations: int
    comments: int
    responses: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.documents} documents, {self.versions} versions, {self.paragraphs:,} "
            f"paragraphs, {self.organisations} organisations, {self.comments:,} comments, "
            f"{self.responses:,} responses in {self.seconds:.1f} s"
        )


def _bulk(conn, table, rows: list[dict], batch: int = 5000) -> None:
    for start in range(0, len(rows), batch):
        conn.execute(insert(table), rows[start : start + batch])


def build(
    engine: Engine,
    comments: int,
    *,
    documents: int = 4,
    versions: int = 3,
    paragraphs: int = 250,
    organisations: int = 400,
    seed: int = 7,
) -> Summary:
    """Fill an empty, migrated database; returns what it made."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    prose = Prose(rng)
    T = db.metadata.tables
    n_par = n_resp = 0
    with engine.begin() as conn:
        _bulk(
            conn,
            T["user"],
            [
                {
                    "id": 1,
                    "email": "secretariat@example.org",
                    "name": "Secretariat",
                    "password_hash": "x",
                    "role": "secretariat",
                }
            ],
        )
        orgs = []
        for i in range(1, organisations + 1):
            a, n = prose._w("a").title(), prose._w("n").title()
            kind = rng.choice(
                ["Network", "Forum", "Institute", "Alliance", "Foundation", "Council"]
            )
            name = f"{a} {n} {kind} {i}"
            orgs.append(
                {
                    "id": i,
                    "slug": f"org-{i}",
                    "name": name,
                    "acronym": "".join(w[0] for w in name.split()[:3]).upper() + str(i),
                    "kind": rng.choice(ORG_KINDS),
                    "countries": rng.sample(COUNTRIES, rng.choice((1, 1, 1, 2, 3))),
                    "focus": [prose._w("n") for _ in range(3)],
                    "description": prose.text(15, 40),
                    "verified_at": EPOCH,
                    "created_at": EPOCH,
                }
            )
        _bulk(conn, T["organisation"], orgs)
        _bulk(
            conn,
            T["user"],
            [
                {
                    "id": 1 + i,
                    "email": f"member{i}@example.org",
                    "name": f"Member {i}",
                    "password_hash": "x",
                    "role": "cso",
                }
                for i in range(1, organisations + 1)
            ],
        )
        _bulk(
            conn,
            T["membership"],
            [{"user_id": 1 + i, "organisation_id": i} for i in range(1, organisations + 1)],
        )
        version_rows, par_rows, open_versions, closed = [], [], [], []
        vid = pid = 0
        for d in range(1, documents + 1):
            conn.execute(
                insert(T["document"]),
                {
                    "id": d,
                    "slug": f"framework-{d}",
                    "created_at": EPOCH,
                    "title": f"Framework on {prose._w('a').title()} {prose._w('n').title()} {d}",
                },
            )
            for number in range(1, versions + 1):
                vid += 1
                published = EPOCH + timedelta(days=90 * (number - 1))
                latest = number == versions
                version_rows.append(
                    {
                        "id": vid,
                        "document_id": d,
                        "number": number,
                        "label": f"Draft {number}",
                        "state": "consultation" if latest else "closed",
                        "content_hash": "0" * 64,
                        "created_at": published,
                        "published_at": published,
                        "closes_at": published + timedelta(days=3650 if latest else 60),
                        "closed_at": None if latest else published + timedelta(days=60),
                    }
                )
                (open_versions if latest else closed).append((vid, published))
                for pos in range(paragraphs):
                    pid += 1
                    heading = pos % 12 == 0
                    body = (
                        f"{prose._w('a').title()} {prose._ns()}" if heading else prose.text(30, 90)
                    )
                    par_rows.append(
                        {
                            "id": pid,
                            "version_id": vid,
                            "position": pos,
                            "number": f"{pos // 12 + 1}.{pos % 12}"
                            if pos % 12
                            else str(pos // 12 + 1),
                            "kind": "heading" if heading else "paragraph",
                            "level": 2 if heading else 0,
                            "source": ("## " if heading else "") + body,
                            "text": body,
                            "lineage": f"l{d}-{pos}",
                        }
                    )
        _bulk(conn, T["version"], version_rows)
        _bulk(conn, T["paragraph"], par_rows)
        n_par = len(par_rows)
        by_version: dict[int, list[dict]] = {}
        for p in par_rows:
            by_version.setdefault(p["version_id"], []).append(p)
        all_versions = closed + open_versions
        comment_rows: list[dict] = []
        response_rows: list[dict] = []
        rid = 0
        for cid in range(1, comments + 1):
            on_closed = closed and rng.random() < 0.6
            version_id, published = rng.choice(closed if on_closed else all_versions)
            paragraph = rng.choice(by_version[version_id]) if rng.random() < 0.9 else None
            r = rng.random()
            kind = "suggestion" if r < 0.33 else ("question" if r < 0.5 else "comment")
            quote = None
            if paragraph is not None and rng.random() < 0.2:
                words = paragraph["text"].split()
                start = rng.randrange(max(1, len(words) - 6))
                quote = " ".join(words[start : start + rng.randint(2, 6)])
            org = rng.randint(1, organisations)
            created = published + timedelta(minutes=rng.randrange(60 * 24 * 55))
            comment_rows.append(
                {
                    "id": cid,
                    "tracking": f"C-{cid:08d}",
                    "version_id": version_id,
                    "paragraph_id": paragraph["id"] if paragraph else None,
                    "organisation_id": org,
                    "author_id": 1 + org,
                    "channel": "web",
                    "kind": kind,
                    "body": prose.text(15, 110),
                    "quote": quote,
                    "suggested_text": prose.text(20, 60) if kind == "suggestion" else None,
                    "content_hash": hashlib.sha256(str(cid).encode()).hexdigest(),
                    "created_at": created,
                }
            )
            if on_closed and rng.random() < 0.7:
                rid += 1
                response_rows.append(
                    {
                        "id": rid,
                        "comment_id": cid,
                        "decision": rng.choice(DECISIONS),
                        "reason": prose.text(8, 40),
                        "responder_id": 1,
                        "created_at": created + timedelta(days=70),
                    }
                )
            if len(comment_rows) >= 20000:
                _bulk(conn, T["comment"], comment_rows)
                _bulk(conn, T["response"], response_rows)
                n_resp += len(response_rows)
                comment_rows, response_rows = [], []
        _bulk(conn, T["comment"], comment_rows)
        _bulk(conn, T["response"], response_rows)
        n_resp += len(response_rows)
        if conn.dialect.name == "postgresql":
            # Explicit ids were given: move the sequences past them for later inserts.
            for table in (
                "user",
                "organisation",
                "membership",
                "document",
                "version",
                "paragraph",
                "comment",
                "response",
            ):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT coalesce(max(id), 1) FROM "{table}"))'
                )
    return Summary(
        documents,
        documents * versions,
        n_par,
        organisations,
        comments,
        n_resp,
        time.perf_counter() - t0,
    )


def make_app(database_url: str, index_dir: str, backend: str = "whoosh"):
    """An app on `database_url` with the schema made by the migrations."""
    import os

    from flask_migrate import upgrade

    from consult import create_app

    os.environ.setdefault("CONSULT_INSTANCE_PATH", tempfile.mkdtemp(prefix="consult-bench-"))
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INDEX_DIR": index_dir,
            "SEARCH_BACKEND": backend,
            "RATELIMIT_ENABLED": False,
            # The benchmarks measure the making of pages, not consult.pagecache's copies.
            "PAGE_CACHE_SECONDS": 0,
        }
    )
    with app.app_context():
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()
    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--comments", type=int, default=10_000)
    ap.add_argument("--documents", type=int, default=4)
    ap.add_argument("--versions", type=int, default=3)
    ap.add_argument("--paragraphs", type=int, default=250)
    ap.add_argument("--organisations", type=int, default=400)
    ap.add_argument("--database", help="a new, empty database (default: a SQLite file in /tmp)")
    args = ap.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='consult-corpus-')}/corpus.db"
    app = make_app(url, tempfile.mkdtemp(prefix="consult-index-"))
    with app.app_context():
        summary = build(
            db.engine,
            args.comments,
            documents=args.documents,
            versions=args.versions,
            paragraphs=args.paragraphs,
            organisations=args.organisations,
        )
    print(f"{url}: {summary}")


if __name__ == "__main__":
    main()
