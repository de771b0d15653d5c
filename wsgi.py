"""WSGI entry point: `gunicorn -w 4 wsgi:app`."""

from consult import create_app, tune_collector, warm_up

app = create_app()
# Each gunicorn worker imports this before it accepts requests: load what the first
# requests would otherwise load (the language model, the catalogs' states) here.
warm_up(app)
# …and keep the garbage collector from walking that on every full collection.
tune_collector()
