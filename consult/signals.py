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
#: An organisation withdrew its co-signature while the consultation was open (subject:
#: the CoSignatureWithdrawal; data: comment tracking number, organisation slug).
cosignature_withdrawn = _ns.signal("comment.cosignature_withdrawn")
#: The author changed a comment's text before the deadline (subject: the CommentRevision;
#: data: comment tracking number, revision number, content_hash).
comment_edited = _ns.signal("comment.edited")
#: The author withdrew a comment (subject: the CommentWithdrawal; data: comment tracking).
comment_withdrawn = _ns.signal("comment.withdrawn")
#: Someone replied in a comment's thread (subject: the Reply; data: comment tracking).
reply_posted = _ns.signal("reply.posted")
#: Someone asked the moderators to look at a comment or a reply (subject: the Flag).
comment_flagged = _ns.signal("comment.flagged")
#: A moderator hid or showed again a comment or a reply, with a public reason
#: (subject: the ModerationAction; data: comment tracking, reply id, action, reason).
comment_moderated = _ns.signal("comment.moderated")
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
#: A drafter changed a draft (subject: the Version; data: operation — edit, insert,
#: delete, move_up, move_down, split, merge, confirm_links, note — and paragraph ids).
draft_changed = _ns.signal("draft.changed")

#: An organisation was registered (subject: the Organisation; data: slug, kind, countries).
organisation_created = _ns.signal("organisation.created")
#: An organisation's public profile changed (data: the names of the changed fields).
organisation_updated = _ns.signal("organisation.updated")
#: The secretariat checked that an organisation is real (data: slug).
organisation_verified = _ns.signal("organisation.verified")
#: Someone asked to join an organisation (subject: the Membership; data: organisation slug).
membership_requested = _ns.signal("membership.requested")
#: An organisation admin approved or refused a request (data: organisation slug, status).
membership_decided = _ns.signal("membership.decided")

#: The committee answered several comments together with one decision and reason
#: (subject: the ResponseGroup; data: decision, comment tracking numbers, reason hash).
responses_grouped = _ns.signal("responses.grouped")
#: The commenting organisation replied to the committee's answer (subject: the
#: ResponseFeedback; data: comment tracking number, satisfied, note hash).
response_feedback_given = _ns.signal("response.feedback_given")
#: The committee took a variant out of its form-letter group to answer it alone
#: (subject: the GroupRemoval; data: comment tracking number, the master's, reason hash).
group_member_removed = _ns.signal("letter_group.member_removed")

#: A file (a position paper) was attached to a comment (subject: the Attachment; data:
#: comment tracking number, name, type, size, sha256, the source message's sha256 if any).
attachment_added = _ns.signal("attachment.added")
#: The secretariat confirmed a message received by e-mail as a comment (subject: the
#: IntakeMessage; data: comment tracking number, message_sha256, organisation, paragraph).
intake_confirmed = _ns.signal("intake.confirmed")
#: The secretariat rejected a message received by e-mail (data: message_sha256, reason hash).
intake_rejected = _ns.signal("intake.rejected")
#: A marked-up Word file returned by an organisation became comments (subject: the
#: Version; data: file_sha256, organisation, found_by, the comments' tracking numbers).
returned_word_imported = _ns.signal("returned_word.imported")
#: A translation of a version was published beside it (subject: the Translation; data:
#: document, version number, language, content_hash of its Markdown and, per translated
#: paragraph, [its id, the authoritative paragraph's id, sha256 of its Markdown]).
translation_published = _ns.signal("translation.published")

#: Personal data was found in a comment's text and held or masked, or the secretariat
#: confirmed or undid the masks (subject: the CommentRedaction; data: comment tracking
#: number, state, the hashes of the original and of the public text, the spans' places
#: and kinds, the reason's hash).
comment_redacted = _ns.signal("comment.redacted")
#: The uptake of the suggestions made on the version before `subject` (a version) was
#: measured by the job worker, its publication having left it there (many suggestions);
#: data: document, version, suggestions_on (the earlier version's number), suggestions.
uptake_measured = _ns.signal("uptake.measured")
#: A supporter signed an organisation's campaign (subject: the CampaignSignature; data:
#: campaign tracking number, individual or organisation slug, named or not).
campaign_signed = _ns.signal("campaign.signed")
#: A supporter withdrew their signature (subject: the CampaignSignature).
campaign_signature_withdrawn = _ns.signal("campaign.signature_withdrawn")


def emit(signal, subject, actor=None, **data) -> None:
    signal.send(signal.name, subject=subject, actor=actor, data=data)
