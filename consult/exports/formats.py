"""Every export format by name: one table used by the pages and the command line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _

from consult.documents.models import Version
from consult.errors import ConsultError


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    extension: str
    mimetype: str
    suffix: str  # in the file name, before the extension
    make: Callable[[Version], bytes]
    group: str  # "text", "changes", "report", "data", "pack"


def _text(fn_name: str):
    def make(v: Version) -> bytes:
        from consult.exports import text

        return getattr(text, fn_name)(v).encode("utf-8")

    return make


def _lazy(module: str, fn_name: str):
    def make(v: Version) -> bytes:
        import importlib

        return getattr(importlib.import_module(f"consult.exports.{module}"), fn_name)(v)

    return make


def _opendata(v: Version) -> bytes:
    from consult.exports.opendata import opendata_zip

    return opendata_zip(v.document)


PDF, DOCX = (
    "application/pdf",
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("pdf", "PDF", "pdf", PDF, "", _lazy("resolution", "version_pdf"), "text"),
        Format("docx", "Word", "docx", DOCX, "", _lazy("resolution", "version_docx"), "text"),
        Format("md", "Markdown", "md", "text/markdown", "", _text("markdown_export"), "text"),
        Format("html", "HTML", "html", "text/html", "", _text("html_export"), "text"),
        Format(
            "akn",
            "Akoma Ntoso XML",
            "xml",
            "application/akn+xml",
            "-akn",
            _lazy("akn", "akn_xml"),
            "text",
        ),
        Format(
            "changes-pdf",
            "PDF",
            "pdf",
            PDF,
            "-changes",
            _lazy("changes", "changes_pdf"),
            "changes",
        ),
        Format(
            "changes-docx",
            "Word (tracked changes)",
            "docx",
            DOCX,
            "-changes",
            _lazy("changes", "changes_docx"),
            "changes",
        ),
        Format("report-pdf", "PDF", "pdf", PDF, "-report", _lazy("report", "report_pdf"), "report"),
        Format(
            "report-docx", "Word", "docx", DOCX, "-report", _lazy("report", "report_docx"), "report"
        ),
        Format(
            "report-csv",
            "CSV",
            "csv",
            "text/csv",
            "-report",
            _lazy("report", "report_csv"),
            "report",
        ),
        Format(
            "report-xlsx",
            "Excel",
            "xlsx",
            XLSX,
            "-report",
            _lazy("report", "report_xlsx"),
            "report",
        ),
        Format(
            "opendata",
            "Open data (JSON and CSV, zip)",
            "zip",
            "application/zip",
            "-opendata",
            _opendata,
            "data",
        ),
        Format("pack-pdf", "PDF", "pdf", PDF, "-pack", _lazy("pack", "pack_pdf"), "pack"),
        Format("pack-docx", "Word", "docx", DOCX, "-pack", _lazy("pack", "pack_docx"), "pack"),
    )
}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ConsultError(
            _(
                "Unknown export format '%(name)s'; use one of: %(x)s.",
                name=name,
                x=", ".join(FORMATS),
            )
        ) from None


def filename(version: Version, fmt: Format) -> str:
    if fmt.name == "opendata":
        return f"{version.document.slug}{fmt.suffix}.{fmt.extension}"
    return f"{version.document.slug}-v{version.number}{fmt.suffix}.{fmt.extension}"


def export(version: Version, name: str) -> tuple[bytes, Format]:
    fmt = get_format(name)
    return fmt.make(version), fmt
