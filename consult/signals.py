"""Domain events, declared once. The domain sends them; the record (and later
mail) listens. Receivers run inside the sender's transaction, so what they add
is committed with the change or not at all.

Every signal is sent with keyword arguments `subject` (the model instance),
`actor` (the User or None for the system) and `data` (a JSON-able dict).
"""

from __future__ import annotations

from blinker import Namespace

_ns = Namespace()

#: A version left draft: it is now published and frozen (data: content_hash, state).
version_published = _ns.signal("version.published")
#: A version changed state after publication: closed or made final.
version_state_changed = _ns.signal("version.state_changed")
#: A draft version was created (from a copy of the previous version or an import).
version_created = _ns.signal("version.created")
#: A comment was posted, on the web or entered by the secretariat.
comment_posted = _ns.signal("comment.posted")
#: Another organisation added its support to a comment.
comment_cosigned = _ns.signal("comment.cosigned")
#: The committee answered a comment.
response_given = _ns.signal("response.given")
#: Someone was named to a document's committee, or their role in it changed
#: (subject: the Document; data: user id, role, previous_role or None).
committee_member_added = _ns.signal("committee.member_added")
#: Someone left a document's committee (subject: the Document; data: user id, role).
committee_member_removed = _ns.signal("committee.member_removed")
#: The committee took a suggestion's wording into a draft (subject: the Response; data:
#: comment tracking number, version number, paragraph ids).
suggestion_taken_up = _ns.signal("suggestion.taken_up")


def emit(signal, subject, actor=None, **data) -> None:
    signal.send(signal.name, subject=subject, actor=actor, data=data)
