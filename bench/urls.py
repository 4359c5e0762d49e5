"""The portal's URLs plus the floor view (`bench/floor/`): a logged-in page that runs one query
and renders a minimal template, through the same middleware as every page. The load figures of
the portal's pages are given as multiples of its p95."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.urls import path
from django.views import View

from ccop.urls import urlpatterns as portal

FLOOR = engines["django"].from_string(
    '<!doctype html><html lang="en"><title>floor</title><main><h1>{{ user.username }}</h1><p>{{ n }}</p></main></html>'
)


class FloorView(LoginRequiredMixin, View):
    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            (n,) = cursor.fetchone()
        return HttpResponse(FLOOR.render({"user": request.user, "n": n}, request))


urlpatterns = [path("bench/floor/", FloorView.as_view(), name="bench-floor"), *portal]
