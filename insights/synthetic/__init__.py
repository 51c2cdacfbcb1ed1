"""Synthetic data at scale, so that dashboards show something real and benchmarks can run.

A fixed country of 7,500 schools across the 20 regions (Almaty ~700, Astana ~300) whatever the
number of reports, reports over the last
two years (fewer in the summer holidays, more as the program spreads), with forms, places,
perpetrators, priorities from the platform's own rule and first-response times; cases,
referrals and lesson deliveries when those tables exist; survey waves with answers, baseline
worse than follow-up. Rows go in with bulk ``insert()`` of ~10,000 dicts at a time, and ids are
assigned here, so that a million reports is a matter of minutes on PostgreSQL.

Everything it makes is marked: schools are named "… (synthetic)" with codes starting "zz", and
reports carry no text at all.
"""

from __future__ import annotations

import random
from datetime import datetime

from core.model_types import utcnow
from extensions import db
from insights import rollup
from insights.synthetic.base import Made, Progress
from insights.synthetic.reports import COUNTRY_SCHOOLS, make_reports, make_schools
from insights.synthetic.surveys import make_survey, survey_answers

__all__ = ["COUNTRY_SCHOOLS", "Made", "generate", "survey_answers"]


def generate(
    reports: int,
    schools: int | None = None,
    survey_share: float = 0.1,
    seed: int | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Made:
    """Everything at once, committed; ``progress`` is called with the rows just written."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    now = now or utcnow()
    school_count = schools or COUNTRY_SCHOOLS
    made_schools = make_schools(school_count, rng)
    db.session.flush()
    made = make_reports(reports, made_schools, rng, now, progress)
    made.schools = school_count
    surveyed = [s for s in made_schools if rng.random() < survey_share] or made_schools[:1]
    survey = make_survey(surveyed, rng, now, progress)
    for name in ("waves", "responses", "answers", "deliveries"):
        setattr(made, name, getattr(survey, name))
    db.session.commit()
    rollup.refresh(now=now)  # the nightly job's work, so that the dashboards are ready
    db.session.commit()
    return made
