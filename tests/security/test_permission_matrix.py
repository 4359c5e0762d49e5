"""The permission matrix (issue 7): every URL pattern of the portal, the public pages and the
admin, enumerated from the URL configuration, requested by every role with GET and with POST,
against the answer written in MATRIX below. A URL without a row fails, naming itself; a row
whose URL is gone fails too.

Roles (columns), all on the scenario of `scenario.py`:
    anon       not logged in
    applicant  grantee staff of an applicant organisation of A's proposals
    member     grantee staff of a member of A's CoP that is not an applicant
    outsider   grantee staff of an organisation of programme A outside the CoP
    committee  committee member of programme A
    conflict   committee member of A with a conflict declared on the proposal under review
    fac-A      facilitator of programme A
    fac-B      facilitator of programme B (has B's own fund, CoP and proposals)
    super      superuser

Each cell is `GET/POST` (or one token for both), tokens as in `matrix.py`:
    200 204 301 403 404 405   that status
    pdf xlsx csv              a download of that type (200)
    L / AL / AI               302 to the portal login / the admin login / the admin index
                              (AI: the admin's "does not exist" for an object out of scope)
    R                         302 elsewhere, nothing changed (refused with a message, or harmless)
    D                         302 elsewhere, the database changed (the action was done)
Only a D cell may change the database: after every request that wrote anything, a digest of
every table's rows (sessions and django-axes' login records excepted) is compared with the one
before, and a change under any other token fails as "<token>+changed". A GET that sends any
INSERT, UPDATE or DELETE fails as "<token>+wrote"; a pdf or xlsx that is not one, "+not-a-file".
Each request is rolled back, so every case starts from the same scenario.

Object column: what fills the URL's parameters. A proposal by state (draft, endorsed by both
applicants; draft_waiting, not yet endorsed by the applicant role's organisation; submitted,
under_review, approved; b_draft, b_approved for programme B), `fund`, `A` for an admin model URL
(the model's object of programme A, `Scenario.admin_object`), `-` when there is none.
POST bodies: `post_data` (a real form where the answer depends on it, a dummy field otherwise).

Set MATRIX_DUMP=<file> to write every observed row there (to draft rows for a new URL: check
each cell against what the role should get before copying it)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from .matrix import SIZES, Route, fill, param_names, resolves_to, site_routes
from .scenario import MARKERS, ROLES

pytestmark = pytest.mark.django_db

METHODS = ("GET", "POST")

# fmt: off
MATRIX = """
| url                                                           | object        | anon    | applicant | member   | outsider | committee | conflict | fac-A    | fac-B    | super    |
|---------------------------------------------------------------|---------------|---------|-----------|----------|----------|-----------|----------|----------|----------|----------|
# The portal's pages and downloads
| activities:grant-reports                                      | grant         | L       | 200/405   | 200/405  | 404/405  | 200/405   | 200/405  | 200/405  | 404/405  | 200/405  |
| activities:lesson-create                                      | r_draft       | L       | 200/D     | 200/D    | 404      | R         | R        | R        | 404      | R        |
| activities:output-create                                      | r_draft       | L       | 200/D     | 200/D    | 404      | R         | R        | R        | 404      | R        |
| activities:output-file                                        | output        | L       | pdf/405   | pdf/405  | 404/405  | pdf/405   | pdf/405  | pdf/405  | 404/405  | pdf/405  |
| activities:photo                                              | photo         | L       | 200/405   | 200/405  | 404/405  | 200/405   | 200/405  | 200/405  | 404/405  | 200/405  |
| activities:report-create                                      | grant         | L       | 200/D     | 200/D    | 404      | R         | R        | R        | 404      | R        |
| activities:report-detail                                      | r_draft       | L       | 200/405   | 200/405  | 404/405  | 200/405   | 200/405  | 200/405  | 404/405  | 200/405  |
| activities:report-edit                                        | r_draft       | L       | 200/D     | 200/D    | 404      | R         | R        | R        | 404      | R        |
| activities:report-list                                        | -             | L       | 200/405   | 200/405  | 200/405  | 200/405   | 200/405  | 200/405  | 200/405  | 200/405  |
| activities:report-publish                                     | r_accepted    | L       | 405/R     | 405/R    | 405/404  | 405/R     | 405/R    | 405/D    | 405/404  | 405/D    |
| activities:report-review                                      | r_submitted   | L       | 405/R     | 405/R    | 405/404  | 405/R     | 405/R    | 405/D    | 405/404  | 405/D    |
| activities:report-submit                                      | r_draft       | L       | 405/D     | 405/D    | 405/404  | 405/R     | 405/R    | 405/R    | 405/404  | 405/R    |
| audit-trail                                                   | -             | L       | 403/405   | 403/405  | 403/405  | 403/405   | 403/405  | 200/405  | 200/405  | 200/405  |
| home                                                          | -             | L       | 200/405   | 200/405  | 200/405  | 200/405   | 200/405  | 200/405  | 200/405  | 200/405  |
| invitation-accept                                             | -             | 200     | 200       | 200      | 200      | 200       | 200      | 200      | 200      | 200      |
| invitation-create                                             | -             | L       | 403       | 403      | 403      | 403       | 403      | 200/D    | 200      | 200/D    |
| proposals:applicant-add                                       | draft         | L       | 405/D     | 405/R    | 405/404  | 405/R     | 405/R    | 405/D    | 405/404  | 405/D    |
| proposals:applicant-remove                                    | draft         | L       | 405/D     | 405/R    | 405/404  | 405/R     | 405/R    | 405/D    | 405/404  | 405/D    |
| proposals:applicant-remove-confirm                            | draft         | L       | 200/D     | R        | 404      | R         | R        | 200/D    | 404      | 200/D    |
| proposals:budget-template                                     | -             | L       | xlsx/405  | xlsx/405 | xlsx/405 | xlsx/405  | xlsx/405 | xlsx/405 | xlsx/405 | xlsx/405 |
| proposals:fund-budget-xlsx                                    | fund          | L       | 404/405   | 404/405  | 404/405  | 404/405   | 404/405  | xlsx/405 | 404/405  | xlsx/405 |
| proposals:proposal-budget-import                              | draft         | L       | 200       | R        | 404      | R         | R        | 200      | 404      | 200      |
| proposals:proposal-budget-template                            | draft         | L       | xlsx/405  | xlsx/405 | 404/405  | xlsx/405  | xlsx/405 | xlsx/405 | 404/405  | xlsx/405 |
| proposals:proposal-budget-totals                              | draft         | L       | 405/200   | 405/200  | 405/404  | 405/200   | 405/200  | 405/200  | 405/404  | 405/200  |
| proposals:proposal-budget-xlsx                                | draft         | L       | xlsx/405  | xlsx/405 | 404/405  | xlsx/405  | xlsx/405 | xlsx/405 | 404/405  | xlsx/405 |
| proposals:proposal-create                                     | -             | L       | 200/D     | 200/D    | 200      | 200       | 200      | 200/D    | 200      | 200/D    |
| proposals:proposal-detail                                     | draft         | L       | 200/405   | 200/405  | 404/405  | 200/405   | 200/405  | 200/405  | 404/405  | 200/405  |
| proposals:proposal-edit                                       | draft         | L       | 200       | R        | 404      | R         | R        | 200      | 404      | 200      |
| proposals:proposal-endorse                                    | draft_waiting | L       | 405/D     | 405/R    | 405/404  | 405/R     | 405/R    | 405/R    | 405/404  | 405/R    |
| proposals:proposal-list                                       | -             | L       | 200/405   | 200/405  | 200/405  | 200/405   | 200/405  | 200/405  | 200/405  | 200/405  |
| proposals:proposal-pdf                                        | approved      | L       | pdf/405   | pdf/405  | 404/405  | pdf/405   | pdf/405  | pdf/405  | 404/405  | pdf/405  |
| proposals:proposal-preview-pdf                                | draft         | L       | pdf/405   | pdf/405  | 404/405  | pdf/405   | pdf/405  | pdf/405  | 404/405  | pdf/405  |
| proposals:proposal-submit                                     | draft         | L       | 405/D     | 405/R    | 405/404  | 405/R     | 405/R    | 405/D    | 405/404  | 405/D    |
| proposals:proposal-versions                                   | draft         | L       | 200/405   | 200/405  | 404/405  | 200/405   | 200/405  | 200/405  | 404/405  | 200/405  |
| proposals:proposal-withdraw                                   | draft         | L       | 200/D     | R        | 404      | R         | R        | 200/D    | 404      | 200/D    |
# Accounts: log in and out, passwords, two-step login, language
| login                                                         | -             | 200     | 200       | 200      | 200      | 200       | 200      | 200      | 200      | 200      |
| logout                                                        | -             | 405/L   | 405/L     | 405/L    | 405/L    | 405/L     | 405/L    | 405/L    | 405/L    | 405/L    |
| password_change                                               | -             | L       | 200       | 200      | 200      | 200       | 200      | 200      | 200      | 200      |
| password_change_done                                          | -             | L       | 200/405   | 200/405  | 200/405  | 200/405   | 200/405  | 200/405  | 200/405  | 200/405  |
| password_reset                                                | -             | 200     | 200       | 200      | 200      | 200       | 200      | 200      | 200      | 200      |
| password_reset_complete                                       | -             | 200/405 | 200/405   | 200/405  | 200/405  | 200/405   | 200/405  | 200/405  | 200/405  | 200/405  |
| password_reset_confirm                                        | -             | 200     | 200       | 200      | 200      | 200       | 200      | 200      | 200      | 200      |
| password_reset_confirm (shadowed)                             | -             | 200     | 200       | 200      | 200      | 200       | 200      | 200      | 200      | 200      |
| password_reset_done                                           | -             | 200/405 | 200/405   | 200/405  | 200/405  | 200/405   | 200/405  | 200/405  | 200/405  | 200/405  |
| set_language                                                  | -             | R       | R/D       | R/D      | R/D      | R/D       | R/D      | R/D      | R/D      | R/D      |
| set_language (shadowed)                                       | -             | R       | R         | R        | R        | R         | R        | R        | R        | R        |
| two-factor-backup-codes                                       | -             | L       | R         | R        | R        | 200/D     | 200/D    | 200/D    | 200/D    | 200/D    |
| two-factor-disable                                            | -             | L       | R         | R        | R        | R         | R        | R        | R        | R        |
| two-factor-manage                                             | -             | L       | 200/405   | 200/405  | 200/405  | 200/405   | 200/405  | 200/405  | 200/405  | 200/405  |
| two-factor-setup                                              | -             | L       | 200       | 200      | 200      | 200       | 200      | 200      | 200      | 200      |
| two-factor-verify                                             | -             | L       | R         | R        | R        | R         | R        | R        | R        | R        |
# The admin site's own pages
| admin:index                                                   | -             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:app_list                                                | -             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:login                                                   | -             | 200     | 200       | 200      | 200      | AI/200    | AI/200   | AI/200   | AI/200   | AI/200   |
| admin:logout                                                  | -             | AI      | AI        | AI       | AI       | 405/L     | 405/L    | 405/L    | 405/L    | 405/L    |
| admin:password_change                                         | -             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:password_change_done                                    | -             | AL      | AL        | AL       | AL       | 200/405   | 200/405  | 200/405  | 200/405  | 200/405  |
| admin:jsi18n                                                  | -             | AL      | AL        | AL       | AL       | 200/405   | 200/405  | 200/405  | 200/405  | 200/405  |
| admin:autocomplete                                            | -             | AL      | AL        | AL       | AL       | 200/405   | 200/405  | 200/405  | 200/405  | 200/405  |
| admin:view_on_site                                            | draft         | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
| admin:admin/(?P<url>.*)$                                      | -             | AL      | AL        | AL       | AL       | 404       | 404      | 404      | 404      | 404      |
# admin: activities.activityreport
| admin:activities_activityreport_changelist                    | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:activities_activityreport_add                           | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:activities_activityreport_change                        | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200/403  |
| admin:activities_activityreport_delete                        | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:activities_activityreport_history                       | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:activities_activityreport_simple_history                | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/activities/activityreport/<path:object_id>/       | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: activities.output
| admin:activities_output_changelist                            | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:activities_output_add                                   | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:activities_output_change                                | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200/403  |
| admin:activities_output_delete                                | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:activities_output_history                               | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:activities_output_simple_history                        | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/activities/output/<path:object_id>/               | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: activities.lesson
| admin:activities_lesson_changelist                            | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:activities_lesson_add                                   | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:activities_lesson_change                                | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200/403  |
| admin:activities_lesson_delete                                | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:activities_lesson_history                               | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:activities_lesson_simple_history                        | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/activities/lesson/<path:object_id>/               | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: activities.lessontheme
| admin:activities_lessontheme_changelist                       | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:activities_lessontheme_add                              | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:activities_lessontheme_change                           | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:activities_lessontheme_delete                           | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | AI       | 403      |
| admin:activities_lessontheme_history                          | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | AI       | 200      |
| admin:admin/activities/lessontheme/<path:object_id>/          | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.applicant
| admin:proposals_applicant_changelist                          | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_applicant_add                                 | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:proposals_applicant_change                              | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/D    | AI       | 200/D    |
| admin:proposals_applicant_delete                              | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200/D    | AI       | 200/D    |
| admin:proposals_applicant_history                             | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:proposals_applicant_simple_history                      | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/proposals/applicant/<path:object_id>/             | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.budgetline
| admin:proposals_budgetline_changelist                         | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_budgetline_add                                | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:proposals_budgetline_change                             | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:proposals_budgetline_delete                             | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200/D    | AI       | 200/D    |
| admin:proposals_budgetline_history                            | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:proposals_budgetline_simple_history                     | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:proposals_budgetline_export                             | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:admin/proposals/budgetline/<path:object_id>/            | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.conflictdeclaration
| admin:proposals_conflictdeclaration_changelist                | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_conflictdeclaration_add                       | A             | AL      | AL        | AL       | AL       | 200/D     | 200/D    | 403      | 403      | 200/D    |
| admin:proposals_conflictdeclaration_change                    | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200/403  |
| admin:proposals_conflictdeclaration_delete                    | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:proposals_conflictdeclaration_history                   | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | AI       | 200      |
| admin:admin/proposals/conflictdeclaration/<path:object_id>/   | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.decision
| admin:proposals_decision_changelist                           | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_decision_add                                  | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:proposals_decision_change                               | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200/403  |
| admin:proposals_decision_delete                               | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:proposals_decision_history                              | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:proposals_decision_simple_history                       | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/proposals/decision/<path:object_id>/              | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.endorsement
| admin:proposals_endorsement_changelist                        | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_endorsement_add                               | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:proposals_endorsement_change                            | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200/403  |
| admin:proposals_endorsement_delete                            | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:proposals_endorsement_history                           | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:proposals_endorsement_simple_history                    | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/proposals/endorsement/<path:object_id>/           | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.exchangerate
| admin:proposals_exchangerate_changelist                       | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_exchangerate_add                              | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:proposals_exchangerate_change                           | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:proposals_exchangerate_delete                           | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200/D    | AI       | 200/D    |
| admin:proposals_exchangerate_history                          | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:proposals_exchangerate_simple_history                   | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/proposals/exchangerate/<path:object_id>/          | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.expectedparticipation
| admin:proposals_expectedparticipation_changelist              | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_expectedparticipation_add                     | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:proposals_expectedparticipation_change                  | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200/403  |
| admin:proposals_expectedparticipation_delete                  | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:proposals_expectedparticipation_history                 | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | AI       | 200      |
| admin:admin/proposals/expectedparticipation/<path:object_id>/ | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.plannedactivity
| admin:proposals_plannedactivity_changelist                    | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_plannedactivity_add                           | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:proposals_plannedactivity_change                        | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:proposals_plannedactivity_delete                        | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200/403  | AI       | 200/403  |
| admin:proposals_plannedactivity_history                       | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:proposals_plannedactivity_simple_history                | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/proposals/plannedactivity/<path:object_id>/       | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.proposal
| admin:proposals_proposal_changelist                           | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_proposal_add                                  | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:proposals_proposal_change                               | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:proposals_proposal_delete                               | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200/403  | AI       | 200/403  |
| admin:proposals_proposal_history                              | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:proposals_proposal_simple_history                       | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:proposals_proposal_export                               | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_proposal_decide                               | under_review  | AL      | AL        | AL       | AL       | 200/D     | R        | R        | 404      | 200/D    |
| admin:admin/proposals/proposal/<path:object_id>/              | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.review
| admin:proposals_review_changelist                             | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_review_add                                    | A             | AL      | AL        | AL       | AL       | 200/D     | 200      | 403      | 403      | 200/D    |
| admin:proposals_review_change                                 | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200/403  |
| admin:proposals_review_delete                                 | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200/D    |
| admin:proposals_review_history                                | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:proposals_review_simple_history                         | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/proposals/review/<path:object_id>/                | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.reviewcriterion
| admin:proposals_reviewcriterion_changelist                    | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_reviewcriterion_add                           | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:proposals_reviewcriterion_change                        | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:proposals_reviewcriterion_delete                        | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200/D    | AI       | 200/D    |
| admin:proposals_reviewcriterion_history                       | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | AI       | 200      |
| admin:admin/proposals/reviewcriterion/<path:object_id>/       | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: proposals.transition
| admin:proposals_transition_changelist                         | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:proposals_transition_add                                | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:proposals_transition_change                             | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200/403  |
| admin:proposals_transition_delete                             | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:proposals_transition_history                            | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | AI       | 200      |
| admin:admin/proposals/transition/<path:object_id>/            | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: grants.fund
| admin:grants_fund_changelist                                  | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:grants_fund_add                                         | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:grants_fund_change                                      | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:grants_fund_delete                                      | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:grants_fund_history                                     | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:grants_fund_simple_history                              | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/grants/fund/<path:object_id>/                     | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: grants.grant
| admin:grants_grant_changelist                                 | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:grants_grant_add                                        | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:grants_grant_change                                     | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200/403  |
| admin:grants_grant_delete                                     | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:grants_grant_history                                    | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:grants_grant_simple_history                             | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/grants/grant/<path:object_id>/                    | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: ccop.cop
| admin:ccop_cop_changelist                                     | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:ccop_cop_add                                            | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:ccop_cop_change                                         | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:ccop_cop_delete                                         | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | AI       | 200      |
| admin:ccop_cop_history                                        | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:ccop_cop_simple_history                                 | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/ccop/cop/<path:object_id>/                        | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: ccop.copphase
| admin:ccop_copphase_changelist                                | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:ccop_copphase_add                                       | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:ccop_copphase_change                                    | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:ccop_copphase_delete                                    | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200/D    | AI       | 200/D    |
| admin:ccop_copphase_history                                   | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | AI       | 200      |
| admin:admin/ccop/copphase/<path:object_id>/                   | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: ccop.countryprogramme
| admin:ccop_countryprogramme_changelist                        | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:ccop_countryprogramme_add                               | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:ccop_countryprogramme_change                            | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | AI/403   | 200      |
| admin:ccop_countryprogramme_delete                            | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:ccop_countryprogramme_history                           | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | AI       | 200      |
| admin:admin/ccop/countryprogramme/<path:object_id>/           | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: ccop.membership
| admin:ccop_membership_changelist                              | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:ccop_membership_add                                     | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:ccop_membership_change                                  | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:ccop_membership_delete                                  | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200/D    | AI       | 200/D    |
| admin:ccop_membership_history                                 | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:ccop_membership_simple_history                          | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/ccop/membership/<path:object_id>/                 | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: ccop.organisation
| admin:ccop_organisation_changelist                            | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:ccop_organisation_add                                   | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:ccop_organisation_change                                | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200      | AI       | 200      |
| admin:ccop_organisation_delete                                | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | AI       | 200      |
| admin:ccop_organisation_history                               | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 404      | 200      |
| admin:ccop_organisation_simple_history                        | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 404/403  | 200/403  |
| admin:admin/ccop/organisation/<path:object_id>/               | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: ccop.rightsholdergroup
| admin:ccop_rightsholdergroup_changelist                       | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:ccop_rightsholdergroup_add                              | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:ccop_rightsholdergroup_change                           | A             | AL      | AL        | AL       | AL       | 200/403   | 200/403  | 200/403  | 200/403  | 200      |
| admin:ccop_rightsholdergroup_delete                           | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:ccop_rightsholdergroup_history                          | A             | AL      | AL        | AL       | AL       | 200       | 200      | 200      | 200      | 200      |
| admin:admin/ccop/rightsholdergroup/<path:object_id>/          | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: ccop.user
| admin:ccop_user_changelist                                    | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:ccop_user_add                                           | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 200      | 200      |
| admin:ccop_user_change                                        | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | AI       | 200      |
| admin:ccop_user_delete                                        | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:ccop_user_history                                       | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 404      | 200      |
| admin:ccop_user_simple_history                                | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200/403  | 404/403  | 200/403  |
| admin:auth_user_password_change                               | A             | AL      | AL        | AL       | AL       | 403       | 403      | 200      | 404      | 200      |
| admin:admin/ccop/user/<path:object_id>/                       | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: auth.group
| admin:auth_group_changelist                                   | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:auth_group_add                                          | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:auth_group_change                                       | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:auth_group_delete                                       | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200/D    |
| admin:auth_group_history                                      | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:admin/auth/group/<path:object_id>/                      | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: otp_totp.totpdevice
| admin:otp_totp_totpdevice_changelist                          | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:otp_totp_totpdevice_add                                 | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:otp_totp_totpdevice_change                              | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:otp_totp_totpdevice_delete                              | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200/D    |
| admin:otp_totp_totpdevice_history                             | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:otp_totp_totpdevice_config                              | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:otp_totp_totpdevice_qrcode                              | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:admin/otp_totp/totpdevice/<path:object_id>/             | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: otp_static.staticdevice
| admin:otp_static_staticdevice_changelist                      | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:otp_static_staticdevice_add                             | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:otp_static_staticdevice_change                          | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:otp_static_staticdevice_delete                          | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200/D    |
| admin:otp_static_staticdevice_history                         | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:admin/otp_static/staticdevice/<path:object_id>/         | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: axes.accessattempt
| admin:axes_accessattempt_changelist                           | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:axes_accessattempt_add                                  | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:axes_accessattempt_change                               | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200/D    |
| admin:axes_accessattempt_delete                               | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200/D    |
| admin:axes_accessattempt_history                              | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:admin/axes/accessattempt/<path:object_id>/              | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: axes.accessfailurelog
| admin:axes_accessfailurelog_changelist                        | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:axes_accessfailurelog_add                               | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:axes_accessfailurelog_change                            | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200/D    |
| admin:axes_accessfailurelog_delete                            | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200/D    |
| admin:axes_accessfailurelog_history                           | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:admin/axes/accessfailurelog/<path:object_id>/           | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
# admin: axes.accesslog
| admin:axes_accesslog_changelist                               | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:axes_accesslog_add                                      | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 403      |
| admin:axes_accesslog_change                                   | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200/D    |
| admin:axes_accesslog_delete                                   | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200/D    |
| admin:axes_accesslog_history                                  | A             | AL      | AL        | AL       | AL       | 403       | 403      | 403      | 403      | 200      |
| admin:admin/axes/accesslog/<path:object_id>/                  | A             | AL      | AL        | AL       | AL       | R         | R        | R        | R        | R        |
"""
# fmt: on

TOKEN = re.compile(r"^(\d{3}|pdf|xlsx|csv|L|AL|AI|R|D)$")


@dataclass(frozen=True)
class Row:
    key: str
    object: str
    cells: dict[tuple[str, str], str]  # (role, method) -> token


def parse(table: str) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    lines = [line.strip() for line in table.strip().splitlines()]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["url", "object", *ROLES], f"the matrix's header must be url, object, {ROLES}"
    for line in lines[1:]:
        if not line.startswith("|") or set(line) <= {"|", "-", " "}:
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == len(header), f"matrix row with {len(cells)} cells, not {len(header)}: {line}"
        key, obj, *answers = cells
        assert key not in rows, f"two rows for {key}"
        parsed = {}
        for role, cell in zip(ROLES, answers, strict=True):
            tokens = cell.split("/") if "/" in cell else [cell, cell]
            assert len(tokens) == 2 and all(TOKEN.match(t) for t in tokens), f"bad cell {cell!r} in {line}"
            parsed[(role, "GET")], parsed[(role, "POST")] = tokens
        rows[key] = Row(key, obj, parsed)
    return rows


EXPECTED = parse(MATRIX)
ROUTES = {route.key: route for route in site_routes()}


# --------------------------------------------------------------------------- filling the URLs


QUERY = {
    # the autocomplete of a budget line's proposal: lists proposals through ProposalAdmin's scope
    "admin:autocomplete": "?app_label=proposals&model_name=budgetline&field_name=proposal&term=",
}


def default_object(route: Route) -> str:
    """The object a new URL without a row is tried with."""
    if route.key in DRAFTING_OBJECTS:
        return DRAFTING_OBJECTS[route.key]
    if route.admin_model():
        return "A"
    return "draft" if "pk" in param_names(route) else "-"


DRAFTING_OBJECTS = {
    "activities:grant-reports": "grant",
    "activities:report-create": "grant",
    "activities:report-detail": "r_draft",
    "activities:report-edit": "r_draft",
    "activities:report-submit": "r_draft",
    "activities:report-review": "r_submitted",
    "activities:report-publish": "r_accepted",
    "activities:output-create": "r_draft",
    "activities:lesson-create": "r_draft",
    "activities:photo": "photo",
    "activities:output-file": "output",
    "proposals:fund-budget-xlsx": "fund",
    "proposals:proposal-pdf": "approved",
    "admin:proposals_proposal_decide": "under_review",
    "admin:view_on_site": "draft",
}


def path_for(route: Route, object_name: str, scenario) -> str:
    obj = None
    if object_name == "A":
        obj = scenario.admin_object[route.admin_model()]
    elif object_name != "-":
        obj = scenario.obj(object_name)
    values = {}
    for name in param_names(route):
        if name in ("pk", "object_id", "id", "#1"):
            values[name] = obj.pk
        elif name == "#2":  # simple_history's version of the object
            values[name] = obj.history.order_by("-history_id").first().history_id
        elif name == "content_type_id":
            values[name] = ContentType.objects.get_for_model(obj).pk
        elif name == "decision":
            values[name] = "reject"
        elif name == "organisation":  # an applicant of the proposal: its lead
            values[name] = obj.applicants.get(is_lead=True).organisation_id
        elif name == "app_label":
            values[name] = "proposals"
        elif name == "url":
            values[name] = "no-such-page/"
        elif name == "token" and route.key == "invitation-accept":
            values[name] = scenario.invitation_token
        elif name == "token":
            values[name] = "bad-token"
        elif name == "uidb64":
            values[name] = "MQ"
        else:
            raise AssertionError(f"{route.key}: no value for the parameter {name!r}; teach path_for")
    return fill(route, values) + QUERY.get(route.key, "")


def post_data(key: str, scenario) -> dict:
    """What each POST sends: a real form where the answer depends on it."""
    proposals = scenario.proposals
    forms = {
        "proposals:proposal-create": {"cop": scenario.cop.pk, "fund": scenario.fund.pk, "title": "Matrix"},
        "proposals:applicant-add": {"organisation": scenario.member_org.pk},
        "proposals:applicant-remove": {"organisation": scenario.co_applicant_org.pk},
        "proposals:proposal-withdraw": {"reason": "Matrix"},
        "proposals:proposal-endorse": {"comment": "Matrix"},
        "invitation-create": {
            "email": "matrix@example.org",
            "organisation": scenario.applicant_org.pk,
            "role": "grantee_staff",
        },
        "set_language": {"language": "km", "next": "/"},
        "admin:proposals_proposal_decide": {"reason": "Not this time.", "amount": ""},
        "admin:proposals_review_add": {
            "proposal": proposals["under_review"].pk,
            "recommendation": "revise",
            "score": "5",
            "comment": "Matrix",
            f"criterion_{scenario.obj('proposals.reviewcriterion').pk}": "4",
        },
        "activities:report-create": _report_form(scenario),
        "activities:report-edit": _report_form(scenario),
        "activities:report-review": {"decision": "send_back", "comment": "Matrix"},
        "activities:output-create": {"kind": "video", "title": "Matrix", "url": "https://example.org/m"},
        "activities:lesson-create": {"stage": "reflect", "text": "Matrix"},
        "admin:proposals_conflictdeclaration_add": {
            "proposal": proposals["under_review"].pk,
            "reason": "Matrix",
        },
    }
    return forms.get(key, {"matrix": "probe"})


def _report_form(scenario) -> dict:
    """A complete report form of A's grant, as the report pages post it."""
    return {
        "title": "Matrix report",
        "kind": "workshop",
        "planned_activity": scenario.obj("grant").proposal.activities.first().pk,
        "starts_on": "2024-03-01",
        "ends_on": "2024-03-01",
        "province": "Battambang",
        "description": "Matrix",
        "participants_total": "10",
        "stakeholders-TOTAL_FORMS": "0",
        "stakeholders-INITIAL_FORMS": "0",
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
    }


# --------------------------------------------------------------------------- the tests


def format_row(key: str, object_name: str, observed: dict) -> str:
    cells = []
    for role in ROLES:
        get, post = observed[(role, "GET")].token, observed[(role, "POST")].token
        cells.append(get if get == post else f"{get}/{post}")
    return "| " + " | ".join([key, object_name, *cells]) + " |"


_sent = {"requests": 0}


@pytest.mark.parametrize("key", sorted(ROUTES))
def test_permission_matrix(key, scenario, send_as):
    route = ROUTES[key]
    row = EXPECTED.get(key)
    object_name = row.object if row else default_object(route)
    path = path_for(route, object_name, scenario)
    if "(shadowed" not in key:  # a pattern shadowed by an earlier one answers as that one
        assert resolves_to(path, route), f"{key}: {path} resolves to another view"
    observed = {
        (role, method): send_as(role, method, path, post_data(key, scenario))
        for role in ROLES
        for method in METHODS
    }
    _sent["requests"] += len(observed)
    SIZES["permission matrix (URLs of the site)"] = (len(ROUTES), len(ROLES), len(METHODS), _sent["requests"])
    if dump := os.environ.get("MATRIX_DUMP"):
        with open(dump, "a", encoding="utf-8") as out:
            out.write(format_row(key, object_name, observed) + "\n")
    if row is None:
        pytest.fail(
            f"{key} ({route.route}) has no row in the permission matrix. Add one to MATRIX in "
            f"{__file__} with the answer each role should get. It answers this now (check every "
            f"cell before copying):\n{format_row(key, object_name, observed)}",
            pytrace=False,
        )
    wrong = [
        f"  {role:<10} {method:<4} expected {row.cells[(role, method)]:<4} got {answer.token:<12} {answer.detail}"
        for (role, method), answer in observed.items()
        if answer.token != row.cells[(role, method)]
    ]
    assert not wrong, f"{key} {path}\n" + "\n".join(wrong)


def test_every_row_names_a_url_of_the_site():
    stale = sorted(set(EXPECTED) - set(ROUTES))
    assert not stale, f"rows for URLs that no longer exist (remove them): {stale}"


def test_the_matrix_covers_the_admin_and_the_downloads():
    """The enumeration itself: the admin's model pages, custom views and downloads are there."""
    keys = set(ROUTES)
    for key in (
        "admin:index",
        "admin:proposals_proposal_decide",
        "admin:proposals_proposal_export",
        "admin:proposals_proposal_simple_history",
        "admin:view_on_site",
        "admin:autocomplete",
        "admin:jsi18n",
        "proposals:proposal-pdf",
        "proposals:proposal-preview-pdf",
        "proposals:proposal-budget-xlsx",
        "proposals:fund-budget-xlsx",
    ):
        assert key in keys, key
    # unnamed patterns are keyed by their route
    assert "admin:admin/proposals/proposal/<path:object_id>/" in keys
    assert "admin:admin/(?P<url>.*)$" in keys


# --------------------------------------------------------------------------- nothing listed across


# Admin models that hold no programme's data: fixed reference data, Django's groups, and login
# records and devices (superusers only, per the matrix).
NOT_PROGRAMME_DATA = {
    "auth.group",
    "ccop.rightsholdergroup",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "otp_totp.totpdevice",
    "otp_static.staticdevice",
}
CHANGELISTS = sorted(
    key
    for key, route in ROUTES.items()
    if key.endswith("_changelist") and route.admin_model() not in NOT_PROGRAMME_DATA
)
STAFF = ("committee", "conflict", "fac-A", "fac-B")


def _other_side(role: str) -> str:
    return "A" if role == "fac-B" else "B"


@pytest.mark.parametrize("key", CHANGELISTS)
def test_admin_lists_show_nothing_of_the_other_programme(key, scenario, client_for):
    """Each admin list, as each admin role of either programme sees it: none of the other
    programme's records in its queryset (all pages), none of its names on the page (filters
    included), and its own programme's records there."""
    label = ROUTES[key].admin_model()
    assert label in scenario.side_a, f"{label}: give the scenario a record of each programme"
    problems = []
    for role in STAFF:
        response = client_for(role).get(reverse(key))
        if response.status_code == 403:
            continue
        assert response.status_code == 200, (role, response.status_code)
        other, own = _other_side(role), "B" if role == "fac-B" else "A"
        listed = set(response.context["cl"].queryset.values_list("pk", flat=True))
        sides = {"A": scenario.side_a[label], "B": scenario.side_b[label]}
        if listed & sides[other]:
            problems.append(f"{role} is listed {other}'s {label} {sorted(listed & sides[other])}")
        if not sides[own] <= listed:
            problems.append(f"{role} misses own {label} {sorted(sides[own] - listed)}")
        text = response.content.decode()
        problems += [f"{role} reads {word!r} on {key}" for word in MARKERS[other] if word in text]
    assert not problems, "\n".join(problems)


def test_autocomplete_lists_only_the_programmes_own_proposals(scenario, client_for):
    path = path_for(ROUTES["admin:autocomplete"], "-", scenario)
    sides = {
        "A": {p.pk for n, p in scenario.proposals.items() if not n.startswith("b_")},
        "B": {p.pk for n, p in scenario.proposals.items() if n.startswith("b_")},
    }
    for role in STAFF:
        found = {int(r["id"]) for r in client_for(role).get(path).json()["results"]}
        own = "B" if role == "fac-B" else "A"
        assert found == sides[own], role


def test_portal_lists_show_only_proposals_the_person_may_see(scenario, client_for):
    may_see_a = {"applicant", "member", "committee", "conflict", "fac-A", "super"}
    titles = {
        "A": [p.title for n, p in scenario.proposals.items() if not n.startswith("b_")],
        "B": [p.title for n, p in scenario.proposals.items() if n.startswith("b_")],
    }
    problems = []
    for role in ROLES[1:]:
        for name in ("home", "proposals:proposal-list"):
            text = client_for(role).get(reverse(name)).content.decode()
            for side, visible in (("A", role in may_see_a), ("B", role in ("fac-B", "super"))):
                shown = [t for t in titles[side] if t in text]
                if visible and name == "proposals:proposal-list" and len(shown) != len(titles[side]):
                    problems.append(f"{role} misses {side}'s proposals on {name}")
                if not visible and shown:
                    problems.append(f"{role} reads {shown} on {name}")
    assert not problems, "\n".join(problems)


# Portal URLs with an object, filled with programme B's instead of A's.
PROGRAMME_B_OBJECT = {
    "proposals:fund-budget-xlsx": "fund-B",
    "proposals:proposal-pdf": "b_approved",
    "activities:grant-reports": "b_grant",
    "activities:report-create": "b_grant",
    "activities:photo": "b_photo",
    "activities:output-file": "b_output",
    **{
        f"activities:{name}": "b_report"
        for name in (
            "report-detail",
            "report-edit",
            "report-submit",
            "report-review",
            "report-publish",
            "output-create",
            "lesson-create",
        )
    },
}
PORTAL_OBJECT_URLS = sorted(
    key for key, route in ROUTES.items() if not route.is_admin and "pk" in param_names(route)
)


@pytest.mark.parametrize("key", PORTAL_OBJECT_URLS)
def test_programme_b_objects_are_404_to_programme_a(key, scenario, send_as):
    """No object of programme B reachable by anyone of programme A (nor by an anonymous person):
    every portal URL with an object, filled with B's, answers 404 (405 for a method the view
    never takes), and changes nothing."""
    path = path_for(ROUTES[key], PROGRAMME_B_OBJECT.get(key, "b_draft"), scenario)
    roles = [r for r in ROLES if r not in ("fac-B", "super")]
    wrong = []
    for role in roles:
        answers = {m: send_as(role, m, path, post_data(key, scenario)) for m in METHODS}
        tokens = {m: a.token for m, a in answers.items()}
        if role == "anon":
            ok = tokens == {"GET": "L", "POST": "L"}
        else:
            ok = set(tokens.values()) <= {"404", "405"} and "404" in tokens.values()
        if not ok:
            wrong.append(f"  {role}: {tokens} {[a.detail for a in answers.values()]}")
    SIZES["programme B's objects asked by programme A's roles"] = (
        len(PORTAL_OBJECT_URLS),
        len(roles),
        len(METHODS),
        len(PORTAL_OBJECT_URLS) * len(roles) * len(METHODS),
    )
    assert not wrong, f"{key} {path}\n" + "\n".join(wrong)
