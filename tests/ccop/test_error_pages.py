"""A person never sees a stack trace: 404, 403 and 500 are the portal's own pages."""

import pytest
from django.test import Client, override_settings
from django.urls import path

from tests.factories import StaffFactory


def _boom(request):
    raise RuntimeError("simulated failure")


urlpatterns = [path("boom/", _boom)]


@pytest.mark.django_db
def test_not_found_is_the_portals_page(client):
    client.force_login(StaffFactory())
    response = client.get("/proposals/999999/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Page not found" in text and 'href="/"' in text and "Traceback" not in text


@pytest.mark.django_db
def test_forbidden_is_the_portals_page(client):
    client.force_login(StaffFactory())
    response = client.get("/accounts/invite/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


@pytest.mark.urls("tests.ccop.test_error_pages")
@override_settings(DEBUG=False)
def test_a_crash_shows_a_plain_page_without_a_stack_trace():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong" in text and "simulated failure" not in text and "Traceback" not in text
