"""A server's worker loads what requests would otherwise load on first use."""

from __future__ import annotations


def test_warm_up_loads_the_language_model(app):
    from consult import warm_up
    from consult.consultation import languages

    warm_up(app)
    assert languages._model is not None
    assert languages.detect("Please publish the budget of the hearings openly.") == "en"


def test_a_server_process_collects_garbage_less_often():
    import gc

    from consult import COLLECTOR_THRESHOLDS, tune_collector

    before = gc.get_threshold()
    try:
        tune_collector()
        assert gc.get_threshold() == COLLECTOR_THRESHOLDS
        assert gc.get_freeze_count() > 0  # what was loaded is out of the collector's sight
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
