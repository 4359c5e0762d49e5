"""The database going away mid-request: the person gets the portal's plain error page, and the
database is exactly as it was (every multi-row write is one transaction).

For each way in (the edit page with its formsets, endorse, submit, approval in the admin, the
budget import's confirmation, accepting an invitation) the request is replayed with the database
failing at the 0th, 1st, 2nd... query after the request's first write, until a run gets through:
each failed run must answer 500 with `templates/500.html` and leave every table (sessions aside)
row for row as before; approvals must also leave no PDF file behind. The fault is injected at
the edge, through Django's `connection.execute_wrapper`, raising the `OperationalError` a lost
connection raises; `RELEASE SAVEPOINT` counts as a query, so the failure of the service's own
commit is covered too (the test's transaction makes it a savepoint).

On PostgreSQL one test really kills the request's connection (`pg_terminate_backend` from a
second connection) after each query of an approval in turn, COMMIT included."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from ccop import services as ccop_services
from ccop.models import Invitation, User
from ccop.roles import user_set_role
from grants.models import Grant
from proposals import pdf, services
from proposals.models import BudgetLine, Decision, Endorsement, Proposal
from tests.factories import (
    CommitteeMemberFactory,
    CountryProgrammeFactory,
    FacilitatorFactory,
    OrganisationFactory,
    ready_proposal,
    under_review,
)
from tests.proposals.test_views import flat, page_data

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
FAKE_PDF = b"%PDF-1.4\n% not rendered: the fault tests are about the database\n%%EOF\n"


class FailAfterFirstWrite:
    """An execute wrapper: from the request's first write on, the `n`-th statement (0 = that
    write) and every one after it raise OperationalError, as on a lost connection, until the
    transaction of that first write has ended. `sql` keeps the first statement that failed.

    The window is the transaction of the first write, its commit included (the `RELEASE
    SAVEPOINT` that ends it, the test's own transaction being the outer one). Rolling back
    (`ROLLBACK TO SAVEPOINT` and the `RELEASE` after it) always works, as it would on a
    connection that is still there. Writes after the window, but to the sessions, are kept in
    `later_writes`: a request writing in two transactions could leave the first without the
    second."""

    def __init__(self, n: int):
        self.n, self.seen, self.fired, self.sql = n, 0, False, ""
        self.depth = len(connection.atomic_blocks)
        assert self.depth, "run inside the test's transaction (django_db without transaction=True)"
        self.writing = self.in_transaction = self.closed = self.rolled_back = False
        self.later_writes: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        statement = sql.lstrip().upper()
        is_write = statement.startswith(WRITES) and "django_session" not in sql
        if self.closed:
            if is_write:
                self.later_writes.append(sql)
            return execute(sql, params, many, context)
        if not self.writing and is_write:
            self.writing, self.in_transaction = True, len(connection.atomic_blocks) > self.depth
        if not self.writing:
            return execute(sql, params, many, context)
        release = statement.startswith("RELEASE SAVEPOINT")
        if self.in_transaction and release and len(connection.atomic_blocks) == self.depth:
            self.closed = True  # the transaction ends here (committed, or after its rollback)
        if statement.startswith("ROLLBACK"):
            self.rolled_back = True
        elif release and self.rolled_back:
            self.rolled_back = False
        elif self.fired or self.seen == self.n:
            self.fired, self.sql = True, self.sql or sql
            raise OperationalError("simulated: server closed the connection unexpectedly")
        else:
            self.seen += 1
        return execute(sql, params, many, context)


def database_state() -> dict:
    """Every row of every table but the sessions', sorted, by table."""
    tables = sorted(t for t in connection.introspection.table_names() if t != "django_session")
    state = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            state[table] = sorted(cursor.fetchall(), key=repr)
    return state


def stored_files(root) -> list[str]:
    return sorted(str(p) for p in Path(root).rglob("*") if p.is_file())


def assert_all_or_nothing(send, *, media_root=None, at_least: int = 3):
    """Replay `send()` with a fault at each query after the first write until one run gets
    through; every failed run answers the plain 500 page and changes nothing. Returns the last
    (successful) response."""
    before, files = database_state(), stored_files(media_root) if media_root else None
    n = 0
    while True:
        fault = FailAfterFirstWrite(n)
        with connection.execute_wrapper(fault):
            response = send()
        if not fault.fired:
            assert fault.writing, "the request wrote nothing"
            assert fault.later_writes == [], f"writes after the transaction ended: {fault.later_writes}"
            break
        where = f"fault at query {n} after the first write: {fault.sql[:120]}"
        assert response.status_code == 500, where
        text = response.content.decode()
        assert "Something went wrong" in text and "Nothing was half-saved" in text, where
        assert "Traceback" not in text and "simulated" not in text, where
        assert database_state() == before, f"{where} left a change in the database"
        if media_root:
            assert stored_files(media_root) == files, f"{where} left a file behind"
        n += 1
    assert n >= at_least, f"only {n} faults were injected: the request wrote less than expected"
    return response


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def browser(user=None) -> Client:
    """A client that shows the error page instead of raising, like a real browser."""
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def committee_member(proposal):
    member = CommitteeMemberFactory(country_programme=proposal.cop.country_programme)
    return user_set_role(user=member, role=member.role)


# --------------------------------------------------------------------------- portal pages


@pytest.mark.django_db
def test_edit_page_save_with_its_formsets_is_all_or_nothing():
    proposal, staff = ready_proposal()
    client = browser(staff[0])
    edit = reverse("proposals:proposal-edit", args=[proposal.pk])
    data = page_data(client.get(edit))
    data["title"] = ["Theatre for everyone, in two days"]
    data["lines-0-quantity"] = ["2"]
    data["lines-TOTAL_FORMS"] = ["2"]
    data.update(
        {
            "lines-1-category": ["meals"],
            "lines-1-description": ["Lunch"],
            "lines-1-unit": ["meal"],
            "lines-1-quantity": ["40"],
            "lines-1-unit_cost": ["5"],
            "lines-1-currency": ["EUR"],
        }
    )

    response = assert_all_or_nothing(lambda: client.post(edit, flat(data)), at_least=8)

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.title == "Theatre for everyone, in two days"
    assert BudgetLine.objects.filter(proposal=proposal).count() == 2


@pytest.mark.django_db
def test_endorse_is_all_or_nothing():
    proposal, staff = ready_proposal(endorse=False)
    client = browser(staff[0])
    endorse = reverse("proposals:proposal-endorse", args=[proposal.pk])

    response = assert_all_or_nothing(lambda: client.post(endorse, {"comment": "We agree."}), at_least=2)

    assert response.status_code == 302
    assert Endorsement.objects.filter(proposal=proposal, organisation=staff[0].organisation).count() == 1


@pytest.mark.django_db
def test_submit_is_all_or_nothing():
    proposal, staff = ready_proposal()
    client = browser(staff[0])
    submit = reverse("proposals:proposal-submit", args=[proposal.pk])

    response = assert_all_or_nothing(lambda: client.post(submit), at_least=4)

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SUBMITTED
    assert proposal.versions.count() == 1 and proposal.transitions.count() == 1


def _workbook(rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.title = "Budget"
    ws.append(["Category", "Description", "Unit", "Quantity", "Unit cost", "Currency", "Activity"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "budget.xlsx"
    return out


@pytest.mark.django_db
def test_budget_import_confirmation_is_all_or_nothing():
    proposal, staff = ready_proposal()
    client = browser(staff[0])
    url = reverse("proposals:proposal-budget-import", args=[proposal.pk])
    rows = [
        ["Meals and refreshments", f"Lunch day {i}", "person", 40, 3.5, "EUR", "Big performance day"]
        for i in range(1, 6)
    ]
    preview = client.post(url, {"file": _workbook(rows)})
    token = re.search(r'name="token" value="([^"]+)"', preview.content.decode()).group(1)

    response = assert_all_or_nothing(
        lambda: client.post(url, {"token": token, "mode": "replace"}), at_least=6
    )

    assert response.status_code == 302
    assert sorted(BudgetLine.objects.filter(proposal=proposal).values_list("description", flat=True)) == [
        f"Lunch day {i}" for i in range(1, 6)
    ]


@pytest.mark.django_db
def test_accepting_an_invitation_is_all_or_nothing():
    programme = CountryProgrammeFactory()
    organisation = OrganisationFactory(country_programme=programme)
    _invitation, link = ccop_services.invitation_send(
        email="new.person@example.org",
        organisation=organisation,
        acting_user=FacilitatorFactory(country_programme=programme),
    )
    client = browser()
    password = "long-enough-Pa55word"
    form = {"username": "new.person", "password1": password, "password2": password}

    response = assert_all_or_nothing(lambda: client.post(link, form), at_least=4)

    assert response.status_code == 302 and response.url == reverse("home")
    user = User.objects.get(username="new.person")
    assert user.organisation == organisation
    assert Invitation.objects.get().user == user


# --------------------------------------------------------------------------- the admin's approval


def _approve(client, proposal, total="1000.00"):
    url = reverse("admin:proposals_proposal_decide", args=[proposal.pk, "approve"])
    return client.post(url, {"reason": "Relevant and feasible.", "amount": total})


@pytest.mark.django_db
def test_approval_in_the_admin_is_all_or_nothing_and_leaves_no_pdf_behind(monkeypatch, media_root):
    proposal, _staff, _member = under_review()
    monkeypatch.setattr(pdf, "render_proposal_pdf", lambda **_kw: FAKE_PDF)
    client = browser(committee_member(proposal))

    response = assert_all_or_nothing(lambda: _approve(client, proposal), media_root=media_root, at_least=8)

    assert response.status_code == 302
    grant = Grant.objects.get(proposal=proposal)
    assert grant.pdf and Path(grant.pdf.path).read_bytes() == FAKE_PDF
    assert Decision.objects.filter(proposal=proposal).count() == 1


@pytest.mark.django_db
def test_a_failed_commit_after_the_pdf_is_stored_removes_the_file(monkeypatch, media_root):
    """The approval's own transaction failing at its very end (after the PDF was written to
    storage, which does not roll back) leaves neither the grant nor the file."""
    proposal, _staff, member = under_review()
    monkeypatch.setattr(pdf, "render_proposal_pdf", lambda **_kw: FAKE_PDF)

    fired = []

    def fail_on_release(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("RELEASE SAVEPOINT") and stored_files(media_root) and not fired:
            fired.append(sql)
            raise OperationalError("simulated: the commit failed")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_on_release), pytest.raises(OperationalError):
        services.proposal_approve(proposal=proposal, acting_user=member, reasons="Good.")

    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.UNDER_REVIEW
    assert not Grant.objects.filter(proposal=proposal).exists()
    assert not Decision.objects.filter(proposal=proposal).exists()
    assert stored_files(media_root) == []


# --------------------------------------------------------------------------- a real lost connection


class KillAfter:
    """An execute wrapper that, after the `n`-th statement of the request's transaction from its
    first write on, terminates the request's own PostgreSQL backend from a second connection
    and waits until it is gone: the next statement, or the COMMIT after the last one, meets a
    dead connection. (After the commit, the e-mail is sent from `on_commit(robust=True)` and
    the session saved; a kill there cannot leave half a record, so it is not the question.)"""

    def __init__(self, n: int, pid: int, admin):
        self.n, self.pid, self.admin = n, pid, admin
        self.seen, self.writing, self.closed, self.fired, self.sql = 0, False, False, False, ""

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        statement = sql.lstrip().upper()
        if self.writing and not connection.in_atomic_block:
            self.closed = True  # the first write's transaction has ended
        if not self.fired and not self.closed and connection.in_atomic_block:
            self.writing = self.writing or statement.startswith(WRITES)
            if self.writing:
                if self.seen == self.n:
                    self.fired, self.sql = True, sql
                    self.kill()
                self.seen += 1
        return result

    def kill(self):
        with self.admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [self.pid])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [self.pid])
                if cursor.fetchone() is None:
                    return
                time.sleep(0.01)
        raise AssertionError(f"backend {self.pid} did not go away")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgres_connection_killed_mid_approval(require_postgres, monkeypatch, media_root):
    import psycopg2

    proposal, _staff, _member = under_review()
    monkeypatch.setattr(pdf, "render_proposal_pdf", lambda **_kw: FAKE_PDF)
    client = browser(committee_member(proposal))
    params = connection.get_connection_params()
    admin = psycopg2.connect(
        **{k: v for k, v in params.items() if k in {"dbname", "host", "port", "user", "password"} and v}
    )
    admin.autocommit = True
    before, killed = database_state(), 0
    try:
        for n in range(200):
            connection.ensure_connection()
            killer = KillAfter(n, connection.connection.get_backend_pid(), admin)
            with connection.execute_wrapper(killer):
                response = _approve(client, proposal)
            connection.close()  # the test client keeps Django from closing a broken connection
            if not killer.fired:
                assert killer.writing and response.status_code == 302
                break
            where = f"connection killed after query {n}: {killer.sql[:120]}"
            assert response.status_code == 500, where
            assert "Something went wrong" in response.content.decode(), where
            assert database_state() == before, f"{where} left a change"
            assert stored_files(media_root) == [], f"{where} left a file behind"
            killed += 1
    finally:
        admin.close()
    # Killed after every statement of the transaction in turn, the last one too (then COMMIT
    # met the dead connection).
    assert killed == killer.seen >= 8
    grant = Grant.objects.get(proposal=proposal)
    assert Path(grant.pdf.path).read_bytes() == FAKE_PDF
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPROVED
