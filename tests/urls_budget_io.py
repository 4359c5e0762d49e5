"""The site's URLs with the budget spreadsheets in the `proposals` namespace (until they are
wired into `proposals.urls`) and an admin site whose list admins carry the export mixin."""

from django.urls import include, path

from ccop import urls as ccop_urls
from proposals import budget_io_urls
from proposals import urls as proposal_urls
from tests.export_admin import export_admin_site

_wired = {getattr(p, "name", None) for p in proposal_urls.urlpatterns}
_proposals = [
    *proposal_urls.urlpatterns,
    *(p for p in budget_io_urls.urlpatterns if p.name not in _wired),
]

urlpatterns = [
    path("proposals/", include((_proposals, "proposals"))),
    *(p for p in ccop_urls.urlpatterns if str(p.pattern) != "proposals/"),
    path("export-admin/", export_admin_site.urls),
]
