"""Parts of pages made of frozen things, kept per process (consult.fragments)."""

from __future__ import annotations

from flask_babel import force_locale

from consult import fragments


def test_a_part_is_made_once_per_key_and_language(app, monkeypatch):
    made = []

    def make():
        made.append(1)
        return f"part {len(made)}"

    with app.test_request_context("/"):
        assert fragments.remembered(("a", 1), make) == "part 1"
        assert fragments.remembered(("a", 1), make) == "part 1"  # kept
        with force_locale("th"):
            assert fragments.remembered(("a", 1), make) == "part 2"  # another language
            # Data the same in every language is kept once for all of them.
            assert fragments.remembered(("rows", 1), make, rendered=False) == "part 3"
        assert fragments.remembered(("rows", 1), make, rendered=False) == "part 3"
        # No key (a draft's part): made each time.
        assert fragments.remembered(None, make) == "part 4"
        assert fragments.remembered(None, make) == "part 5"
        # At most SIZE parts: the least recently used goes first.
        fragments.forget()
        monkeypatch.setattr(fragments, "SIZE", 2)
        assert fragments.remembered(("a",), make) == "part 6"
        assert fragments.remembered(("b",), make) == "part 7"
        assert fragments.remembered(("a",), make) == "part 6"  # used again: the newest
        assert fragments.remembered(("c",), make) == "part 8"  # "b" goes
        assert fragments.remembered(("a",), make) == "part 6"
        assert fragments.remembered(("b",), make) == "part 9"
        assert len(fragments._kept) == 2
