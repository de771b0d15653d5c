"""A server's worker loads what requests would otherwise load on first use."""

from __future__ import annotations


def test_warm_up_loads_the_language_model(app):
    from consult import warm_up
    from consult.consultation import languages

    warm_up(app)
    assert languages._model is not None
    assert languages.detect("Please publish the budget of the hearings openly.") == "en"


def test_warm_up_compiles_every_template(app, monkeypatch):
    """After the warm-up no request compiles a template: asking for any of them does
    not go back to the files."""
    from consult import warm_up

    warm_up(app)
    env = app.jinja_env
    names = env.list_templates(extensions=["html", "txt", "xml"])
    assert "documents/version.html" in names and len(names) > 100

    def no_source(*args, **kwargs):
        raise AssertionError("a template was compiled after the warm-up")

    monkeypatch.setattr(type(env.loader), "get_source", no_source)
    monkeypatch.setattr(env, "auto_reload", False)  # a debug server checks the files' dates
    for name in names:
        assert env.get_template(name).name == name


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
