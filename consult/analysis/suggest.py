"""Suggested themes: a version's comments clustered by their words, for an analyst to
name, merge into a theme or discard. Never published: only the staff page shows them.

TF-IDF (scikit-learn, a lexical model: nothing to download) on a bounded sample of
the version's comments — one per form-letter group, so a letter sent 10,000 times
weighs as one — and MiniBatchKMeans; each cluster shows its top terms and its most
typical comments (nearest its centre). The sample and the random state are fixed, so
the same comments give the same clusters, and a `fingerprint` of the sample tells a
form posted later whether the comments changed meanwhile.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import or_, select

from consult.analysis.grouping import text_of
from consult.analysis.models import CommentSignature, LetterGroup
from consult.consultation.models import Comment
from consult.documents.models import Version
from consult.extensions import db

#: Comments clustered at most (the newest are left out beyond it); the page stays
#: well under a second.
SAMPLE = 2000
#: Clusters asked for at most, and comments per cluster at least on average.
MAX_CLUSTERS = 8
PER_CLUSTER = 5
TOP_TERMS = 8
#: Words of three letters or more, no digits: the terms clustered.
WORD_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"
TYPICAL = 3


@dataclass
class Cluster:
    number: int
    terms: list[str]
    size: int  # comments of the sample in it
    typical: list[int]  # comment ids, most typical first
    members: list[int] = field(default_factory=list)


def sample(version: Version) -> list[tuple[int, str]]:
    """(comment id, text) of up to SAMPLE comments: those alone and each group's
    master, oldest first; comments not yet placed count as alone."""
    rows = db.session.execute(
        select(Comment.id, Comment.body, Comment.suggested_text)
        .outerjoin(CommentSignature, CommentSignature.comment_id == Comment.id)
        .outerjoin(LetterGroup, LetterGroup.id == CommentSignature.group_id)
        .where(
            Comment.version_id == version.id,
            or_(CommentSignature.group_id.is_(None), LetterGroup.master_comment_id == Comment.id),
        )
        .order_by(Comment.id)
        .limit(SAMPLE)
    ).all()
    return [(r.id, text_of(r.body, r.suggested_text)) for r in rows]


def fingerprint(items: list[tuple[int, str]]) -> str:
    return hashlib.sha256(",".join(str(i) for i, _ in items).encode()).hexdigest()[:16]


def clusters(items: list[tuple[int, str]]) -> list[Cluster]:
    """Clusters of the items' texts, largest first; none when there are too few."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(items) < 2 * PER_CLUSTER:
        return []
    vec = TfidfVectorizer(
        stop_words="english",
        min_df=2,
        max_df=0.6,
        sublinear_tf=True,
        token_pattern=WORD_PATTERN,
    )
    try:
        x = vec.fit_transform([t for _, t in items])
    except ValueError:  # no word left (all stop words, or too few documents)
        return []
    k = max(2, min(MAX_CLUSTERS, len(items) // PER_CLUSTER))
    km = MiniBatchKMeans(n_clusters=k, random_state=0, n_init=3, batch_size=1024)
    labels = km.fit_predict(x)
    terms = vec.get_feature_names_out()
    dist = km.transform(x)
    out = []
    for c in range(k):
        idx = [i for i, lab in enumerate(labels) if lab == c]
        if not idx:
            continue
        centre = km.cluster_centers_[c]
        top = [str(terms[j]) for j in centre.argsort()[::-1][:TOP_TERMS] if centre[j] > 0]
        typical = sorted(idx, key=lambda i: dist[i, c])[:TYPICAL]
        out.append(
            Cluster(
                number=c,
                terms=top,
                size=len(idx),
                typical=[items[i][0] for i in typical],
                members=[items[i][0] for i in idx],
            )
        )
    out.sort(key=lambda cl: (-cl.size, cl.number))
    return out


def adopt(version: Version, cluster: Cluster, theme, *, by) -> int:
    """Tag the cluster's comments with `theme`, and with them every member of the
    form-letter groups whose master is in the cluster; returns how many were tagged
    anew. The caller commits."""
    from consult.analysis import themes

    ids = set(cluster.members)
    masters = list(ids)
    for start in range(0, len(masters), 500):
        ids |= set(
            db.session.scalars(
                select(CommentSignature.comment_id)
                .join(LetterGroup, LetterGroup.id == CommentSignature.group_id)
                .where(
                    LetterGroup.version_id == version.id,
                    LetterGroup.master_comment_id.in_(masters[start : start + 500]),
                )
            )
        )
    return themes.tag_many(ids, theme, by=by)
