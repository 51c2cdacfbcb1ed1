"""Monthly totals: the dashboards read whole closed months from them, with the same numbers as
counting the reports one by one."""

import math
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from core.clock import local_zone
from core.model_types import utcnow
from extensions import db
from incidents.intake.models import Perpetrator, Place, Priority, Report, ViolenceForm
from insights import rollup
from insights.dashboard import month_label
from insights.figures import live_figures, report_figures
from insights.filters import Filters, default_period
from school.models import Role
from tests import factories
from tests.insights import factories as f


def months_ago(n: int, day: int = 10) -> datetime:
    today = utcnow().date().replace(day=1)
    for _ in range(n):
        today = (today - timedelta(days=1)).replace(day=1)
    return datetime(today.year, today.month, day, 9, 0, tzinfo=UTC)


@pytest.fixture
def history(app):
    """Reports in two regions, 5, 4 and 1 months ago and this month."""
    almaty = [factories.school(f"Almaty {i}", region_code="KZ-75") for i in range(2)]
    astana = factories.school("Astana 1", region_code="KZ-71")
    delays = [0.5, 2, 3, 7, 20, 30, 50, 80]
    specs = [
        (ViolenceForm.verbal, Place.classroom, Perpetrator.students, Priority.low),
        (ViolenceForm.physical, Place.yard, Perpetrator.students, Priority.normal),
        (ViolenceForm.sexual, Place.toilet, Perpetrator.school_staff, Priority.high),
        (ViolenceForm.cyberbullying, Place.online, Perpetrator.unknown, Priority.critical),
    ]
    made = []
    for age in (5, 4, 1, 0):
        for s_index, school in enumerate([*almaty, astana]):
            for i, (form, place, perpetrator, priority) in enumerate(specs):
                created = months_ago(age, day=3 + i) + timedelta(hours=s_index)
                if created > utcnow():
                    created = utcnow() - timedelta(hours=1 + i)
                delay = delays[(i + s_index + age) % len(delays)]
                answered = created + timedelta(hours=delay)
                unanswered = (i + s_index) % 5 == 0
                made.append(
                    f.report(
                        school,
                        created,
                        [form, ViolenceForm.bullying] if i == 1 else [form],
                        place=place,
                        perpetrator=perpetrator,
                        priority=priority,
                        first_response_at=None if unanswered or answered > utcnow() else answered,
                    )
                )
    return almaty, astana, made


def tally(n) -> tuple[int, int]:
    """A count and the key of the rows it counts: a count read from the totals must be published
    as the same rows counted live (``insights.stats.Tally``), so both must agree."""
    return int(n), getattr(n, "key", 0)


def comparable(figures, exact_medians: bool):
    def medians(rows):
        return [t.median_hours for t in rows]

    def timing(t):
        return (t.key, *(tally(n) for n in (t.reports, t.answered, t.within, t.overdue)))

    counts = {
        "total": tally(figures.total),
        "months": [(c.key, tally(c.count)) for c in figures.by_month],
        "month_form": {
            k: {form: tally(n) for form, n in v.items()} for k, v in figures.month_form.items() if v
        },
        "forms": [(c.key, tally(c.count)) for c in figures.by_form],
        "places": [(c.key, tally(c.count)) for c in figures.by_place],
        "perpetrators": [(c.key, tally(c.count)) for c in figures.by_perpetrator],
        "priorities": [timing(t) for t in figures.by_priority],
        "all": timing(figures.timeliness),
        "units": sorted(timing(t) for t in figures.by_unit),
    }
    all_medians = medians(figures.by_priority) + [figures.timeliness.median_hours]
    all_medians += [t.median_hours for t in sorted(figures.by_unit, key=lambda t: t.key)]
    return counts, all_medians


@pytest.mark.parametrize("region_code", [None, "KZ-75"])
def test_monthly_totals_give_the_same_figures_as_counting_the_reports(app, history, region_code):
    region = factories.region(region_code) if region_code else None
    analyst = factories.user(Role.analyst, region_=region)
    start, end = default_period()
    filters = Filters(start, end, region_id=region.id if region else None)
    counted = live_figures(analyst, filters, month_label)
    assert rollup.split(start, end).months == []  # nothing refreshed yet: all counted live
    refreshed = rollup.refresh()
    db.session.commit()
    # Every month from the first report's to this one (covered up to today).
    assert refreshed == [months_ago(n).strftime("%Y-%m") for n in (5, 4, 3, 2, 1, 0)]
    cut = rollup.split(start, end)
    assert cut.months[-1] == months_ago(0).strftime("%Y-%m")  # this month up to today
    assert cut.live_start == utcnow().astimezone(local_zone()).date()  # today: live
    combined = report_figures(analyst, filters, month_label)
    counts, medians = comparable(combined, exact_medians=region is not None)
    expected_counts, expected_medians = comparable(counted, exact_medians=region is not None)
    assert counts == expected_counts
    assert counts["total"][0] == (48 if region is None else 32)
    for index, (got, want) in enumerate(zip(medians, expected_medians, strict=True)):
        if region is not None and index > len(Priority):  # a region's schools: exact
            assert got == pytest.approx(want)
        elif want is None:
            assert got is None
        else:  # by priority and in all (and per region) they are read from a 10% histogram
            assert got == pytest.approx(want, rel=0.06)


def test_a_late_answer_shows_after_the_next_refresh(app, history):
    _almaty, _astana, made = history
    analyst = factories.user(Role.analyst)
    start, end = default_period()
    filters = Filters(start, end)
    rollup.refresh()
    db.session.commit()
    old = next(r for r in made if r.first_response_at is None and r.created_at < months_ago(3))
    before = report_figures(analyst, filters, month_label).timeliness
    old.first_response_at = old.created_at + timedelta(hours=1)
    db.session.commit()
    stale = report_figures(analyst, filters, month_label).timeliness
    assert stale.answered == before.answered  # the totals are from the last refresh
    rollup.refresh()
    db.session.commit()
    fresh = report_figures(analyst, filters, month_label).timeliness
    assert fresh.answered == before.answered + 1
    assert fresh.overdue == before.overdue - 1
    assert fresh.answered == live_figures(analyst, filters, month_label).timeliness.answered


def test_a_school_and_a_form_filter_are_always_counted_from_the_reports(app, history):
    almaty, _astana, made = history
    rollup.refresh()
    db.session.commit()
    # Remove a report after the refresh: pages read from the totals count it until the next one.
    gone = next(r for r in made if r.school_id == almaty[0].id and r.created_at < months_ago(3))
    db.session.delete(gone)
    db.session.commit()
    start, end = default_period()
    admin = factories.user(Role.school_admin, almaty[0])
    own = report_figures(admin, Filters(start, end, school_id=almaty[0].id), month_label)
    assert own.total == 15
    analyst = factories.user(Role.analyst)
    form = report_figures(analyst, Filters(start, end, form=ViolenceForm.verbal), month_label)
    assert form.total == 11
    assert report_figures(analyst, Filters(start, end), month_label).total == 48  # until a refresh


def test_a_median_read_from_the_histogram_is_within_five_percent():
    values = [0.1 * 1.37**k for k in range(40)] + [3.3, 3.4, 47.0]
    counts: dict[int, int] = {}
    for hours in values:
        minutes = hours * 60
        bucket = 0 if minutes < 1 else math.floor(math.log(minutes) / math.log(rollup.RATIO))
        counts[bucket] = counts.get(bucket, 0) + 1
    exact = statistics.median(values)
    assert rollup.median_from_histogram(counts) == pytest.approx(exact, rel=0.05)
    assert rollup.median_from_histogram({}) is None


def test_the_refresh_command_marks_the_months(runner, history):
    result = runner.invoke(args=["insights", "refresh-stats"])
    assert result.exit_code == 0, result.output
    assert "6 months" in result.output
    assert len(rollup.marked_months()) == 6
    assert db.session.query(Report).count() == 48


def _cases(made) -> list:
    """A case for most reports of the history, opened a day after the report: closed with each
    outcome in turn, or still open."""
    from incidents.cases.enums import CaseState, Outcome
    from incidents.cases.models import Case

    outcomes = [None, *Outcome]
    cases = []
    for n, report in enumerate(made):
        if n % 4 == 3:
            continue  # a report nobody opened a case for
        outcome = outcomes[n % len(outcomes)]
        opened = min(report.created_at + timedelta(days=1), utcnow() - timedelta(minutes=5))
        case = Case(
            school_id=report.school_id,
            report_id=report.id,
            label=f"C-ROLL-{n}",
            state=CaseState.closed if outcome else CaseState.in_progress,
            outcome=outcome,
            created_at=opened,
        )
        db.session.add(case)
        cases.append(case)
    db.session.commit()
    return cases


@pytest.mark.parametrize("region_code", [None, "KZ-75"])
def test_case_totals_give_the_same_figures_as_counting_the_cases(app, history, region_code):
    from insights.casework import case_figures

    cases = _cases(history[2])
    region = factories.region(region_code) if region_code else None
    start, end = default_period()
    everyone = len(cases) if region is None else len(cases) * 2 // 3  # Almaty: 2 of 3 schools
    for analyst, filters, seen in (
        (
            factories.user(Role.analyst),
            Filters(start, end, region_id=region and region.id),
            everyone,
        ),
        # A regional analyst on the page of the whole country sees only their region.
        (
            factories.user(Role.analyst, region_=factories.region("KZ-75")),
            Filters(start, end),
            len(cases) * 2 // 3,
        ),
    ):
        counted = case_figures(analyst, filters)
        rollup.refresh()
        db.session.commit()
        assert rollup.split(start, end).months
        rolled = case_figures(analyst, filters)
        assert [(c.key, tally(c.count)) for c in rolled.rows] == [
            (c.key, tally(c.count)) for c in counted.rows
        ]
        assert rolled.total == seen
        db.session.execute(rollup.refreshed_months.delete())
        db.session.commit()


def test_a_case_closed_after_the_refresh_shows_after_the_next_one(app, history):
    from incidents.cases.enums import CaseState, Outcome
    from insights.casework import case_figures

    cases = _cases(history[2])
    analyst = factories.user(Role.analyst)
    filters = Filters(*default_period())
    rollup.refresh()
    db.session.commit()
    before = {c.key: c.count for c in case_figures(analyst, filters).rows}
    old = next(
        c for c in cases if c.state == CaseState.in_progress and c.created_at < months_ago(3)
    )
    old.state, old.outcome = CaseState.closed, Outcome.resolved
    db.session.commit()
    stale = {c.key: c.count for c in case_figures(analyst, filters).rows}
    assert stale == before  # the totals are from the last refresh
    rollup.refresh()
    db.session.commit()
    fresh = {c.key: c.count for c in case_figures(analyst, filters).rows}
    assert fresh[rollup.OPEN] == before[rollup.OPEN] - 1
    assert fresh[Outcome.resolved.value] == before[Outcome.resolved.value] + 1


def test_the_nightly_refresh_rebuilds_only_the_months_that_changed(app, runner, history):
    """``refresh-stats`` rebuilds what changed since the last run, not every month since the
    first report (issue 19); ``--full`` still rebuilds them all; the result is the same."""
    _almaty, _astana, made = history
    result = runner.invoke(args=["insights", "refresh-stats", "--full"])
    assert result.exit_code == 0, result.output
    assert "6 months" in result.output
    old = {months_ago(n).strftime("%Y-%m") for n in (5, 4, 3, 2)}
    assert not set(rollup.changed_months()) & old  # nothing changed there since
    # Old months change: an answer recorded late (dated when it was given), a report removed.
    five, four = months_ago(5).strftime("%Y-%m"), months_ago(4).strftime("%Y-%m")
    answered = next(
        r for r in made if r.first_response_at is None and r.created_at.strftime("%Y-%m") == five
    )
    answered.first_response_at = answered.created_at + timedelta(hours=1)
    gone = next(r for r in made if r.created_at.strftime("%Y-%m") == four)
    db.session.delete(gone)
    db.session.commit()
    changed = rollup.changed_months()
    assert five in changed and four in changed
    assert not set(changed) & (old - {five, four})
    result = runner.invoke(args=["insights", "refresh-stats"])
    assert result.exit_code == 0, result.output
    assert f"{len(changed)} months" in result.output and len(changed) < 6
    analyst = factories.user(Role.analyst)
    start, end = default_period()
    filters = Filters(start, end)
    from_totals = comparable(report_figures(analyst, filters, month_label), exact_medians=False)
    live = comparable(live_figures(analyst, filters, month_label), exact_medians=False)
    assert from_totals[0] == live[0]


def _referrals(cases) -> list:
    """Referrals of the cases, of every kind of body in turn: sent on time, sent late, not sent
    with a deadline passed, not sent and not yet due, without a deadline."""
    from incidents.cases.models import Referral
    from school.models import BodyKind

    kinds = list(BodyKind)
    made = []
    for n, case in enumerate(cases):
        deadline = case.created_at + timedelta(days=1)
        sent, deadline_at = [
            (case.created_at + timedelta(hours=5), deadline),
            (case.created_at + timedelta(days=3), deadline),
            (None, deadline),
            (None, utcnow() + timedelta(days=2)),
            (None, None),
        ][n % 5]
        referral = Referral(
            case_id=case.id,
            school_id=case.school_id,
            body_kind=kinds[n % len(kinds)],
            deadline_at=deadline_at,
            sent_at=sent if sent is None or sent < utcnow() else None,
            created_at=case.created_at,
        )
        db.session.add(referral)
        made.append(referral)
    db.session.commit()
    return made


@pytest.mark.parametrize("region_code", [None, "KZ-75"])
def test_referral_totals_give_the_same_figures_as_counting_the_referrals(app, history, region_code):
    """Referrals by kind of body are read from the monthly totals like the rest (issue 19):
    the same counts, carrying the same keys, as counting the referrals themselves."""
    from insights.casework import referral_figures

    referrals = _referrals(_cases(history[2]))
    region = factories.region(region_code) if region_code else None
    analyst = factories.user(Role.analyst, region_=region)
    filters = Filters(*default_period(), region_id=region and region.id)

    def figures():
        return [
            (r.key, *(tally(n) for n in (r.referrals, r.sent, r.on_time, r.due)))
            for r in referral_figures(analyst, filters)
        ]

    counted = figures()
    assert sum(row[1][0] for row in counted) > 0
    rollup.refresh()
    db.session.commit()
    assert rollup.split(filters.start, filters.end).months
    assert figures() == counted
    # Read from the totals: a referral removed after the refresh counts until the next one.
    gone = next(r for r in referrals if r.created_at < months_ago(3))
    if region is None or gone.school.region_id == region.id:
        db.session.delete(gone)
        db.session.commit()
        assert figures() == counted
        rollup.refresh()
        db.session.commit()
        assert sum(row[1][0] for row in figures()) == sum(row[1][0] for row in counted) - 1


def test_months_left_alone_by_later_runs_are_not_rebuilt_for_their_old_marks(app, history):
    """Months not rebuilt by the last runs keep older marks: the changes are looked for since
    the last run, not since the oldest mark (else every night would rebuild everything again)."""
    rollup.refresh()
    db.session.commit()
    current = months_ago(0).strftime("%Y-%m")
    db.session.execute(
        rollup.refreshed_months.update()
        .where(rollup.refreshed_months.c.month != current)
        .values(refreshed_at=utcnow() - timedelta(days=400))
    )
    db.session.commit()
    old = {months_ago(n).strftime("%Y-%m") for n in (5, 4, 3, 2)}
    assert not set(rollup.changed_months()) & old


def test_a_regions_page_gives_the_schools_it_lists_their_exact_medians(app, history, monkeypatch):
    """Issue 19: a region's page lists the schools that need attention first; only those get
    their exact medians (one statement over their reports), the same as counted live; the rest
    are read on demand (?units=all) and in the exports, also exact."""
    from insights import dashboard as boards

    region = factories.region("KZ-75")
    analyst = factories.user(Role.analyst, region_=region)
    start, end = default_period()
    filters = Filters(start, end, region_id=region.id)
    exact = {t.key: t.median_hours for t in live_figures(analyst, filters, month_label).by_unit}
    assert len(exact) == 2 and all(exact.values())
    rollup.refresh()
    db.session.commit()
    monkeypatch.setattr(boards, "ATTENTION_ROWS", 1)
    board = boards.build(analyst, filters, all_units=False)
    [listed] = boards.attention_first(board)
    assert listed.median_hours == pytest.approx(exact[listed.key])
    [other] = [t for t in board.reports.by_unit if t.key != listed.key]
    assert other.median_hours is None  # not listed: not computed
    for every in (boards.build(analyst, filters), boards.build(analyst, filters, export=True)):
        got = {t.key: t.median_hours for t in every.reports.by_unit}
        assert got == pytest.approx(exact)
