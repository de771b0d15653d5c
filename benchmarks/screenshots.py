"""The screenshot set of issue 22: the key pages of the demo consultation at 1280 and
390 pixels, signed out and as a CSO member, as full-page JPEGs in docs/screenshots/
with an index.md listing them.

    .venv/bin/python -m benchmarks.screenshots [--out docs/screenshots]

With --locale th (km, my, …), issue 19's set: a few pages in that language, and the
first page of the version's and the report's PDF (pdftoppm), in docs/screenshots/th/,
to see that each script is rendered with its font.

Loads the demo (what `flask demo` loads) into a new SQLite database in a temporary
folder, serves it on a free loopback port and drives Debian's chromium."""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
from pathlib import Path

WIDTHS = (1280, 390)
QUALITY = 55
#: Longer pages are cut at this height (the record and a long compare are 20,000 px).
MAX_HEIGHT = 4500
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _pages(db, select) -> list[tuple[str, str, str | None]]:
    """(name, path, who) of each key page; who: None signed out, else an e-mail."""
    from consult.consultation.models import Comment
    from consult.documents.models import Document

    doc = db.session.scalar(select(Document).order_by(Document.id).limit(1))
    n = max(v.number for v in doc.versions)
    commented = db.session.scalar(
        select(Comment).where(Comment.version_id == doc.versions[0].id).limit(1)
    )
    para = commented.paragraph_id or doc.versions[0].paragraphs[1].id
    open_version = next((v for v in doc.versions if v.state == "consultation"), doc.versions[-1])
    member = "sokha.chan@example.org"
    return [
        ("home", "/", None),
        ("document", f"/documents/{doc.slug}", None),
        ("version-1", f"/documents/{doc.slug}/versions/1", None),
        (f"version-{n}", f"/documents/{doc.slug}/versions/{n}", None),
        ("paragraph", f"/paragraphs/{para}", None),
        ("comment", f"/comments/{commented.id}", None),
        ("report", f"/documents/{doc.slug}/versions/1/report", None),
        ("compare", f"/documents/{doc.slug}/compare/1/{n}", None),
        ("record", "/record/", None),
        ("search", "/search?q=parliament", None),
        ("organisations", "/organisations", None),
        ("sign-in", "/sign-in", None),
        ("sign-up", "/sign-up", None),
        ("member-version", f"/documents/{doc.slug}/versions/{open_version.number}", member),
        ("member-paragraph", f"/paragraphs/{para}", member),
        ("member-account", "/account", member),
    ]


#: The pages shown in another language (issue 19): text, comments, figures, forms.
LOCALE_PAGES = ("home", "version-1", "paragraph", "report", "compare", "sign-up")


def _pdfs(base: str, pages, locale: str, out: Path) -> list[tuple[str, str]]:
    """The version's and the report's PDF in `locale`, first page as a JPEG."""
    import subprocess
    import urllib.request

    version = next(path for name, path, _ in pages if name == "version-1")
    made = []
    for name, fmt in (("version-pdf", "pdf"), ("report-pdf", "report-pdf")):
        req = urllib.request.Request(
            f"{base}{version}/export/{fmt}", headers={"Accept-Language": locale}
        )
        with urllib.request.urlopen(req, timeout=300) as resp:
            pdf = resp.read()
        path = out / f"{name}.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-jpeg", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(path),
             str(out / name)],
            check=True,
        )  # fmt: skip
        path.unlink()
        made.append((name, f"{name}.jpg"))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--locale", help="the interface's language (default: English)")
    args = parser.parse_args()
    out = Path(args.out) / (args.locale or "")
    out.mkdir(parents=True, exist_ok=True)

    tmp = tempfile.mkdtemp(prefix="consult-shots-")
    os.environ["CONSULT_INSTANCE_PATH"] = os.path.join(tmp, "instance")
    os.environ.setdefault("CONSULT_RATELIMIT_STORAGE", "memory://")
    from flask_migrate import upgrade
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select
    from werkzeug.serving import make_server

    from consult import create_app
    from consult.demo import DEMO_PASSWORD, load_demo
    from consult.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/demo.db",
            "INDEX_DIR": os.path.join(tmp, "index"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        load_demo()
        db.session.commit()
        pages = _pages(db, select)
        if args.locale:
            pages = [p for p in pages if p[0] in LOCALE_PAGES]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for width in WIDTHS:
            contexts = {}
            for name, path, who in pages:
                if who not in contexts:
                    ctx = browser.new_context(
                        viewport={"width": width, "height": 900},
                        extra_http_headers={"Accept-Language": args.locale or "en"},
                    )
                    page = ctx.new_page()
                    if who:
                        page.goto(f"{base}/sign-in")
                        page.fill("input[name=email]", who)
                        page.fill("input[name=password]", DEMO_PASSWORD)
                        page.click("form.stack button[type=submit]")
                        page.wait_for_load_state()
                    contexts[who] = page
                page = contexts[who]
                page.goto(base + path)
                page.wait_for_load_state("load")
                file = f"{name}-{width}.jpg"
                height = min(MAX_HEIGHT, page.evaluate("document.documentElement.scrollHeight"))
                page.screenshot(
                    path=str(out / file),
                    full_page=True,
                    clip={"x": 0, "y": 0, "width": width, "height": height},
                    type="jpeg",
                    quality=QUALITY,
                )
                rows.append((name, path, who, width, file))
        browser.close()
    pdfs = _pdfs(base, pages, args.locale, out) if args.locale else []
    server.shutdown()

    lines = [
        "# Screenshots of the key pages",
        "",
        "The demo consultation (`flask demo`) at 1280 and 390 pixels, full page, made by",
        "`.venv/bin/python -m benchmarks.screenshots` (issue 22). Signed out unless a",
        "member is named. Pages longer than 4,500 pixels are cut there.",
        "",
        "| Page | Path | Signed in as | 1280 px | 390 px |",
        "|---|---|---|---|---|",
    ]
    by_name: dict[str, dict] = {}
    for name, path, who, width, file in rows:
        by_name.setdefault(name, {"path": path, "who": who})[width] = file
    for name, r in by_name.items():
        lines.append(
            f"| {name} | `{r['path']}` | {r['who'] or '—'} | [{r[1280]}]({r[1280]}) "
            f"| [{r[390]}]({r[390]}) |"
        )
    for name, file in pdfs:
        lines.append(f"| {name} (PDF, first page) | | — | [{file}]({file}) | |")
    (out / "index.md").write_text("\n".join(lines) + "\n")
    total = sum(f.stat().st_size for f in out.glob("*.jpg"))
    print(f"{len(rows)} screenshots, {total / 1e6:.1f} MB, in {out}")


if __name__ == "__main__":
    main()
