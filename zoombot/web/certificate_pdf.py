"""Certificates of attendance and yearly transcripts as PDF files (fpdf2), from `zoombot.core.certificates`.

fpdf2 was chosen over WeasyPrint and ReportLab because it is pure Python (nothing to install from the
operating system: WeasyPrint needs Pango), small, actively maintained, subsets the fonts it embeds (a
certificate is about 30 KB) and draws a page in milliseconds. The fonts are DejaVu Sans, and Droid Sans
Fallback for the letters DejaVu lacks, shipped in `zoombot/web/fonts/` (see its LICENSE), so names in
Latin, Greek, Cyrillic, Chinese, Japanese and Korean scripts print the same on every installation; no
system font is looked up.

Layout only: every word printed comes from `Certificate.lines()` / the `Transcript`, so what a paper says
is decided (and tested) in the pure module. US Letter, since the registries are American.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from zoombot.core.certificates import Certificate, Transcript, hours_text
from zoombot.core.plurals import plural

# fontTools logs every glyph it keeps at INFO: the letters of a member's name, in the service's logs.
logging.getLogger("fontTools").setLevel(logging.WARNING)


class _NoMissingGlyphs(logging.Filter):
    """fpdf2 warns of the letters no font has, quoting them: a member's name, letter by letter. They print as
    blanks; the warning is dropped, never logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Font %s is missing the following glyphs")


logging.getLogger("fpdf.output").addFilter(_NoMissingGlyphs())

FONTS = Path(__file__).with_name("fonts")
FAMILY = "DejaVu"
FALLBACK = "DroidFallback"  # Chinese, Japanese and Korean letters, which DejaVu Sans has none of
INK = (26, 26, 26)
MUTED = (85, 85, 85)
ACCENT = (29, 79, 145)


class Paper(FPDF):
    """A Letter page with zoombot's fonts and a footer naming the document and its page."""

    def __init__(self, title: str, footer: str, issued_on) -> None:
        super().__init__(format="Letter", unit="mm")
        self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.add_font(FALLBACK, "", str(FONTS / "DroidSansFallback.ttf"))
        self.set_fallback_fonts([FALLBACK], exact_match=False)  # bold text too: the fallback has one weight
        self.set_title(title)
        self.set_author(footer)
        self.set_creator("zoombot")
        self.set_lang("en")
        # the issue date, not the wall clock, so the same paper is the same file
        self.set_creation_date(datetime.combine(issued_on, time(12), tzinfo=UTC))
        self.footer_text = footer
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, margin=20)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{self.footer_text} · page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(*INK)

    def text_line(
        self,
        text: str,
        size: float = 11,
        style: str = "",
        align: str = "L",
        height: float | None = None,
        color: tuple[int, int, int] = INK,
    ) -> None:
        self.set_font(FAMILY, style, size)
        self.set_text_color(*color)
        self.multi_cell(0, height or size * 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)


def certificate_pdf(paper: Certificate) -> bytes:
    """One page: the certificate of attendance for one approved session line."""
    pdf = Paper(f"Certificate of attendance {paper.code}", paper.issuer or "Certificate of attendance", paper.issued_on)
    pdf.add_page()
    if paper.issuer:
        pdf.text_line(paper.issuer, 12, "B", align="C", color=ACCENT)
        pdf.ln(2)
    pdf.text_line("Certificate of Attendance", 24, "B", align="C", height=12)
    pdf.ln(3)
    pdf.text_line("This certifies that", 11, align="C", color=MUTED)
    pdf.ln(1)
    pdf.text_line(paper.member_name, 20, "B", align="C", height=10)
    pdf.text_line(
        "attended the Community of Practice session below and is credited the hours shown.", 11, align="C", color=MUTED
    )
    pdf.ln(6)
    label_width = 64
    for label, value in paper.lines():
        bold = label == "Total hours"
        pdf.set_font(FAMILY, "B", 10.5)
        pdf.set_text_color(*MUTED)
        y = pdf.get_y()
        pdf.multi_cell(label_width, 6.5, label, new_x="RIGHT", new_y="TOP")
        pdf.set_text_color(*INK)
        pdf.set_font(FAMILY, "B" if bold else "", 10.5)
        pdf.multi_cell(0, 6.5, value, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y + 6.5))
    if paper.credit.training:
        pdf.ln(4)
        pdf.text_line("Training", 12, "B")
        pdf.ln(1)
        with pdf.table(
            col_widths=(62, 52, 36, 20),
            text_align=("LEFT", "LEFT", "LEFT", "RIGHT"),
            headings_style=FontFace(emphasis="BOLD"),
            line_height=6,
            padding=1.2,
        ) as table:
            pdf.set_font(FAMILY, "", 9.5)
            table.row(["Title", "Category", "Approval code", "Hours"])
            for part in paper.credit.training:
                table.row(
                    [part.title or "untitled", part.category or "—", part.approval_code or "—", hours_text(part.hours)]
                )
    pdf.ln(8)
    pdf.set_draw_color(*ACCENT)
    top = pdf.get_y()
    pdf.set_x(pdf.l_margin + 4)
    pdf.text_line(f"Verification code: {paper.code}", 12, "B")
    pdf.set_x(pdf.l_margin + 4)
    pdf.text_line(f"Anyone can check this certificate at {paper.verify_url}", 9.5, color=MUTED)
    pdf.rect(pdf.l_margin, top - 2, pdf.epw, pdf.get_y() - top + 4)
    pdf.ln(8)
    pdf.text_line(
        f"Issued {paper.issued_on:%B} {paper.issued_on.day}, {paper.issued_on.year}"
        + (f" by {paper.issuer}" if paper.issuer else "")
        + ".",
        9.5,
        color=MUTED,
    )
    return bytes(pdf.output())


def transcript_pdf(paper: Transcript) -> bytes:
    """The member's licensing year: every approved session, totals by kind and progress to the requirement."""
    pdf = Paper(
        f"Transcript {paper.year.label}",
        paper.issuer or "Transcript of professional development hours",
        paper.issued_on,
    )
    pdf.add_page()
    if paper.issuer:
        pdf.text_line(paper.issuer, 12, "B", color=ACCENT)
    pdf.text_line("Transcript of Professional Development Hours", 18, "B", height=9)
    pdf.text_line(f"Licensing year {paper.year.label} ({paper.year.span})", 11, color=MUTED)
    pdf.ln(3)
    pdf.text_line(f"{paper.member_name} · Registry ID {paper.registry_id or 'not on file'}", 12, "B")
    pdf.ln(3)
    hours = paper.hours
    summary = [
        ("Professional growth hours (approved)", hours_text(hours.approved["growth"])),
        ("Training hours (approved)", hours_text(hours.approved["training"])),
        ("Total approved", hours_text(hours.approved_total)),
        ("Yearly requirement", hours_text(hours.requirement)),
        (
            "Progress",
            f"{hours.percent}% · "
            + ("requirement met" if hours.remaining == 0 else f"{hours_text(hours.remaining)} hours to go"),
        ),
    ]
    for label, value in summary:
        pdf.set_font(FAMILY, "B", 10.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(88, 6.5, label)
        pdf.set_text_color(*INK)
        pdf.set_font(FAMILY, "B" if label == "Total approved" else "", 10.5)
        pdf.cell(0, 6.5, value, new_x="LMARGIN", new_y="NEXT")
    if paper.pending_sessions:
        pdf.ln(1)
        pdf.text_line(
            f"Not included: {plural(paper.pending_sessions, 'session')} awaiting review "
            f"({hours_text(hours.pending_total)} hours).",
            9.5,
            color=MUTED,
        )
    pdf.ln(5)
    if not paper.rows:
        pdf.text_line("No approved sessions in this licensing year yet.", 11)
    else:
        pdf.set_font(FAMILY, "", 9)
        with pdf.table(
            col_widths=(22, 62, 17, 19, 15, 40),
            text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
            headings_style=FontFace(emphasis="BOLD"),
            line_height=5.2,
            padding=1.2,
            repeat_headings=1,
        ) as table:
            table.row(["Date", "Community and training", "Growth", "Training", "Total", "Verification code"])
            for row in paper.rows:
                training = "".join(
                    f"\nTraining: {p.title}, {p.category or 'no category'}, approval "
                    f"{p.approval_code or '—'} ({hours_text(p.hours)} h)"
                    for p in row.credit.training
                )
                table.row(
                    [
                        f"{row.session.local_date:%Y-%m-%d}",
                        row.session.community + training,
                        hours_text(row.credit.growth_hours),
                        hours_text(row.credit.training_hours),
                        hours_text(row.credit.total_hours),
                        row.code or "",
                    ]
                )
    pdf.ln(6)
    pdf.text_line(
        f"Each session's certificate can be checked with its code at {paper.verify_url}. Issued "
        f"{paper.issued_on:%B} {paper.issued_on.day}, {paper.issued_on.year}"
        + (f" by {paper.issuer}" if paper.issuer else "")
        + ".",
        9,
        color=MUTED,
    )
    return bytes(pdf.output())
