"""Translations: a version's text in another language, aligned paragraph by paragraph
to the authoritative text (by numbering and structure, since words do not match across
languages), reviewed by the drafters, then published (a record event with its digest).
The committee's answers may be given in several languages too (ResponseTranslation)."""
