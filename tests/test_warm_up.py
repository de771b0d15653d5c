"""A server's worker loads what requests would otherwise load on first use."""

from __future__ import annotations

import os


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


def test_a_web_process_does_not_load_what_only_jobs_use(tmp_path):
    """datasketch (the form letters' MinHash signatures, made by the job worker) imports
    SciPy, about 50 MB of every gunicorn worker: a web process loads it only when it makes
    a signature itself. Checked in a fresh interpreter, as a server's worker starts."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from consult import create_app, warm_up\n"
        "app = create_app()\n"
        "warm_up(app)\n"
        "print(sorted(m for m in ('datasketch', 'scipy', 'sklearn') if m in sys.modules))\n"
        "from consult.analysis import nearcopies\n"
        "assert nearcopies.similarity(nearcopies.signature('a b c d e'),"
        " nearcopies.signature('a b c d e')) == 1.0\n"
        "print('datasketch' in sys.modules)\n"
    )
    env = {
        **os.environ,
        "CONSULT_INSTANCE_PATH": str(tmp_path / "instance"),
        "CONSULT_DATABASE_URL": f"sqlite:///{tmp_path / 'consult.db'}",
        "CONSULT_JOBS": "",
    }
    out = subprocess.run(  # noqa: S603 - this interpreter, with the code above
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:2] == ["[]", "True"], out
