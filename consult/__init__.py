"""Consult: consultations on policy texts, traceable from every comment to the final text."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from consult import config as config_module
from consult.errors import ConsultError
from consult.extensions import csrf, db, limiter, login_manager, migrate
from consult.sqlite_writes import wal

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
#: Sent only on HTTPS answers (browsers ignore it over plain HTTP): two years.
HSTS = "max-age=63072000; includeSubDomains"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(
        __name__,
        template_folder=os.path.join(root, "templates"),
        static_folder=os.path.join(root, "static"),
        instance_path=os.environ.get("CONSULT_INSTANCE_PATH") or os.path.join(root, "instance"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config_module.load(app.instance_path))
    if config:
        app.config.update(config)

    from consult import sqlite_writes

    sqlite_writes.configure(app.config)  # on SQLite, writers take turns (not polling)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(root, "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Please sign in to continue."
    csrf.init_app(app)
    limiter.init_app(app)
    from consult import assets, i18n, jobs

    i18n.init_app(app, os.path.join(root, "translations"))
    assets.init_app(app)

    jobs.init_app(app)

    _import_models()
    _connect_listeners()
    from consult import converters, textpolicy

    converters.init_app(app)  # before the blueprints: rules take converters when added
    textpolicy.init_app(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_template_helpers(app)
    from consult import errors_pages

    errors_pages.register(app)
    if app.config.get("PROXY_FIX"):
        # Behind N trusted proxies: the client's address (rate limits), scheme (HSTS,
        # secure cookies) and host come from their X-Forwarded-* headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from consult.cli import register as register_cli

    register_cli(app)

    @app.after_request
    def _headers(resp):
        for k, v in SECURITY_HEADERS.items():
            resp.headers.setdefault(k, v)
        if request.is_secure:
            resp.headers.setdefault("Strict-Transport-Security", HSTS)
        return resp

    from consult import pagecache

    pagecache.init_app(app)  # last: its hook runs after every other one
    return app


def _import_models() -> None:
    # Every model module is imported so that metadata (and Alembic) see all tables.
    from consult.accounts import auth as _auth  # noqa: F401
    from consult.accounts import models as _a  # noqa: F401
    from consult.analysis import models as _an  # noqa: F401
    from consult.consultation import attachments as _ca  # noqa: F401
    from consult.consultation import campaigns as _cc  # noqa: F401
    from consult.consultation import models as _c  # noqa: F401
    from consult.consultation import redaction as _cr  # noqa: F401
    from consult.documents import models as _d  # noqa: F401
    from consult.intake import models as _i  # noqa: F401
    from consult.mail import models as _m  # noqa: F401
    from consult.record import models as _r  # noqa: F401
    from consult.search import models as _s  # noqa: F401
    from consult.tracing import models as _t  # noqa: F401
    from consult.translations import models as _tr  # noqa: F401


_connected = False


def warm_up(app: Flask) -> None:
    """Load per process what requests would otherwise load on first use: the language
    identifier's model (issue 18: it was loaded in the first POST of each gunicorn
    worker, 1-6 s of CPU depending on how busy the machine is, inside the benchmark's
    measured time), the catalogs' states that pick the offered locales, and every
    template compiled (a long version page's first showing in a process spent 140 of
    its 220 ms compiling its five templates). For a server's entry point (wsgi.py) and
    the browser tests' live server; other tests and CLI commands do not need it."""
    from consult import i18n
    from consult.consultation import languages

    languages.warm_up()
    with app.app_context():
        i18n.offered_locales()
        env = app.jinja_env
        for name in env.list_templates(extensions=["html", "txt", "xml"]):
            env.get_template(name)


#: The garbage collector's thresholds in a server process (Python's default: 700, 10, 10).
#: A page of a long text allocates hundreds of thousands of objects; at the default a
#: collection runs every 700 of them and a full one now and then walks every object of
#: the process: a fifth to a half of such a page's time on this machine
#: (benchmarks/pages.py). Requests make few reference cycles, so collecting less often
#: costs little memory.
COLLECTOR_THRESHOLDS = (20_000, 20, 20)


def tune_collector() -> None:
    """For a server's entry point, once the app is loaded (after warm_up): move what is
    loaded so far (modules, the app, the language model) out of the collector's sight
    (gc.freeze: they live as long as the process), and collect less often."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def _connect_listeners() -> None:
    global _connected
    if _connected:
        return
    from consult.analysis.grouping import connect as connect_grouping
    from consult.mail.notify import connect as connect_mail
    from consult.record.service import connect as connect_record
    from consult.search.outbox import connect as connect_search
    from consult.tracing.listeners import connect as connect_tracing

    connect_record()
    connect_search()
    connect_tracing()
    connect_mail()
    connect_grouping()
    _connected = True


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_conn, _record) -> None:
    if isinstance(dbapi_conn, sqlite3.Connection):  # or consult.sqlite_writes' subclass
        wal(dbapi_conn)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()
    elif type(dbapi_conn).__module__.startswith("psycopg"):
        # No JIT compilation: it adds 5-50 ms to a page's query that the planner thinks
        # costly (a sort over many rows it then reads through an index), and the app's
        # queries are short. Committed: a SET inside a rolled-back transaction is undone.
        with dbapi_conn.cursor() as cur:
            cur.execute("SET jit = off")
        dbapi_conn.commit()


def _register_blueprints(app: Flask) -> None:
    from consult.accounts.org_routes import bp as organisations_bp
    from consult.accounts.routes import bp as accounts_bp
    from consult.analysis.routes import bp as analysis_bp
    from consult.api import analysis as _api_analysis  # noqa: F401 - adds to api bp
    from consult.api import comments as _api_comments  # noqa: F401 - adds to api bp
    from consult.api import drafting as _api_drafting  # noqa: F401 - adds to api bp
    from consult.api import intake as _api_intake  # noqa: F401 - adds to api bp
    from consult.api import lists as _api_lists  # noqa: F401 - adds to api bp
    from consult.api import openapi as _api_openapi  # noqa: F401 - adds to api bp
    from consult.api import organisations as _api_organisations  # noqa: F401 - adds to api bp
    from consult.api import record as _api_record  # noqa: F401 - adds to api bp
    from consult.api import translations as _api_translations  # noqa: F401 - adds to api bp
    from consult.api import voices as _api_voices  # noqa: F401 - adds to api bp
    from consult.api import word as _api_word  # noqa: F401 - adds to api bp
    from consult.api.routes import bp as api_bp
    from consult.consultation import returned_word_routes as _rw  # noqa: F401 - adds routes
    from consult.consultation import voices_routes as _vr  # noqa: F401 - adds routes
    from consult.consultation.attachment_routes import bp as attachments_bp
    from consult.consultation.routes import bp as consultation_bp
    from consult.documents.routes import bp as documents_bp
    from consult.exports.routes import bp as exports_bp
    from consult.feeds import bp as feeds_bp
    from consult.intake.routes import bp as intake_bp
    from consult.record.routes import bp as record_bp
    from consult.search.routes import bp as search_bp
    from consult.tracing.routes import bp as tracing_bp
    from consult.translations.routes import bp as translations_bp

    for bp in (
        documents_bp,
        consultation_bp,
        accounts_bp,
        search_bp,
        exports_bp,
        record_bp,
        tracing_bp,
        organisations_bp,
        feeds_bp,
        attachments_bp,
        intake_bp,
        analysis_bp,
        translations_bp,
    ):
        app.register_blueprint(bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _register_errors(app: Flask) -> None:
    @app.errorhandler(ConsultError)
    def _consult_error(e: ConsultError):
        db.session.rollback()
        action = getattr(e, "action", None)
        if _wants_json():
            error = {"code": e.code, "message": e.message}
            if action:
                error["action"] = action
            return jsonify(error=error), e.status
        return (
            render_template("error.html", status=e.status, message=e.message, action=action),
            e.status,
        )

    from werkzeug.exceptions import HTTPException

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        if _wants_json():
            code = (e.name or "error").lower().replace(" ", "_")
            return jsonify(error={"code": code, "message": e.description}), e.code
        return render_template("error.html", status=e.code, message=e.description), e.code


def _register_template_helpers(app: Flask) -> None:
    from consult.web import template_helpers

    app.jinja_env.globals.update(template_helpers())
    app.jinja_env.filters.update(template_helpers(filters=True))

    @app.before_request
    def _start():
        g.nav = None
