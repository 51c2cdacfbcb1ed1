"""Report and respond, in four parts: ``intake`` (the anonymous report, its files, receipt and
conversation; the QR poster), ``cases`` (the case and its state machine, the staff's work on it,
deadlines, retention), ``referrals`` (rules, referrals to authorized bodies and their letters,
the partner's pages), ``teacher`` (the teacher's named report) and ``desk`` (the regional duty
desk: routing rules, its inbox and its work on a report). Each declares its addresses in
its ``urls`` module."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from incidents import cases, desk, intake, referrals, teacher
    from incidents.scopes import not_about_desk_reports
    from school.access import add_audit_condition

    intake.init_app(app)
    cases.init_app(app)  # the dashboard links keep their order: cases, teacher, partner, rules
    teacher.init_app(app)
    referrals.init_app(app)
    desk.init_app(app)
    # The school's audit log does not name a report the duty desk holds alone, nor its case.
    add_audit_condition(app, not_about_desk_reports)
