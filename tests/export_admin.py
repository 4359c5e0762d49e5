"""An admin site for the tests whose list admins are the real ones with `ExportWithFiltersMixin`
and a resource, as they are meant to be wired in `proposals/admin.py` and `grants/admin.py`."""

from django.contrib import admin

from grants.admin import FundAdmin, GrantAdmin
from grants.models import Fund, Grant
from proposals.admin import ProposalAdmin
from proposals.admin_export import ExportWithFiltersMixin
from proposals.models import BudgetLine, Proposal
from proposals.resources import BudgetLineResource, FundResource, GrantResource, ProposalResource
from proposals.selectors import proposals_for_user

export_admin_site = admin.AdminSite(name="export_admin")


class ProposalExportAdmin(ProposalAdmin):
    resource_classes = [ProposalResource]


class BudgetLineExportAdmin(ExportWithFiltersMixin, admin.ModelAdmin):
    resource_classes = [BudgetLineResource]
    list_display = ["description", "proposal", "category", "quantity", "unit_cost", "currency"]
    list_filter = ["proposal__fund", "category", "currency"]
    search_fields = ["description"]

    def get_queryset(self, request):
        visible = proposals_for_user(request.user).values("pk")
        return super().get_queryset(request).filter(proposal__in=visible)


class FundExportAdmin(ExportWithFiltersMixin, FundAdmin):
    resource_classes = [FundResource]


class GrantExportAdmin(ExportWithFiltersMixin, GrantAdmin):
    resource_classes = [GrantResource]


export_admin_site.register(Proposal, ProposalExportAdmin)
export_admin_site.register(BudgetLine, BudgetLineExportAdmin)
export_admin_site.register(Fund, FundExportAdmin)
export_admin_site.register(Grant, GrantExportAdmin)
