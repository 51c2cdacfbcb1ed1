"""The duty desk's inbox shows what needs attention first (issue 19, with issue 16's desk): the
reports nobody has answered yet, the critical first, then the oldest (whose first-response time
runs out first); the answered ones after them."""

from core.model_types import utcnow
from extensions import db
from incidents.intake.models import Perpetrator, ViolenceForm
from school.models import Role
from tests import factories
from tests.incidents.factories import report


def test_the_desk_lists_the_unanswered_critical_and_oldest_first(app, login):
    app.config["TWO_FACTOR_ROLES"] = ""
    school = factories.school(region_code="KZ-71")
    desk = factories.user(Role.desk_officer, region_=factories.region("KZ-71"))
    about_staff = {"perpetrator": Perpetrator.school_staff}  # the desk alone reads these
    answered, _ = report(school, **about_staff)
    oldest, _ = report(school, **about_staff)
    newer, _ = report(school, **about_staff)
    critical, _ = report(school, forms=[ViolenceForm.sexual], is_danger_now=True, **about_staff)
    answered.first_response_at = utcnow()
    db.session.commit()
    client = app.test_client()
    login(desk, using=client)
    page = client.get("/desk/inbox").get_data(as_text=True)
    places = [page.index(made.label) for made in (critical, oldest, newer, answered)]
    assert places == sorted(places), places
