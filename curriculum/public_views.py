"""Public pages, no log-in: what violence against children is, and leaflets for parents."""

from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import and_, select

from core.anonymity import anonymous_blueprint
from core.i18n import LOCALES, current_locale
from core.pdf import pdf_response, render_pdf
from curriculum.models import InfoPage, InfoPageText, PageKind
from extensions import db

# Children read these pages too, and the certificate check (course_views) is public: nothing of a
# visit is kept, and no access log writes a line.
public = anonymous_blueprint(
    "public", __name__, paths=("/learn", "/leaflets", "/verify"), template_folder="templates"
)

LEAFLET_LANGUAGES = ("kk", "ru")  # printed for families; the page itself exists in all three


def pages(kind: PageKind, locale: str) -> list[tuple[InfoPage, InfoPageText]]:
    stmt = (
        select(InfoPage, InfoPageText)
        .join(
            InfoPageText, and_(InfoPageText.page_id == InfoPage.id, InfoPageText.locale == locale)
        )
        .where(InfoPage.kind == kind, InfoPage.retired.is_(False))
        .order_by(InfoPage.position, InfoPage.slug)
    )
    return list(db.session.execute(stmt))


def page_or_404(kind: PageKind, slug: str) -> InfoPage:
    page = db.session.scalar(
        select(InfoPage).where(
            InfoPage.kind == kind, InfoPage.slug == slug, InfoPage.retired.is_(False)
        )
    )
    if page is None:
        abort(404)
    return page


@public.get("/learn")
def public_index():
    locale = current_locale()
    return render_template(
        "curriculum/public_index.html",
        pages=pages(PageKind.awareness, locale),
        leaflets=pages(PageKind.leaflet, locale),
        leaflet_languages=LEAFLET_LANGUAGES,
    )


@public.get("/learn/<slug>")
def public_page(slug: str):
    page = page_or_404(PageKind.awareness, slug)
    locale = current_locale()
    return render_template(
        "curriculum/public_page.html",
        page=page,
        text=page.text(locale),
        others=[item for item in pages(PageKind.awareness, locale) if item[0].id != page.id],
        leaflets=pages(PageKind.leaflet, locale),
        leaflet_languages=LEAFLET_LANGUAGES,
    )


@public.get("/leaflets/<slug>.pdf")
def leaflet_pdf(slug: str):
    page = page_or_404(PageKind.leaflet, slug)
    lang = request.args.get("lang")
    lang = lang if lang in LOCALES else current_locale()
    data = render_pdf("curriculum/pdf/leaflet.html", locale=lang, page=page, text=page.text(lang))
    return pdf_response(data, f"{page.slug}-{lang}.pdf")
