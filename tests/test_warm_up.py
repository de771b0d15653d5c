"""A server's worker loads what requests would otherwise load on first use."""

from __future__ import annotations


def test_warm_up_loads_the_language_model(app):
    from consult import warm_up
    from consult.consultation import languages

    warm_up(app)
    assert languages._model is not None
    assert languages.detect("Please publish the budget of the hearings openly.") == "en"
