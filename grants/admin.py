from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from ccop import money
from ccop.admin import ScopedAdminMixin
from ccop.audit import ReadOnlyHistoryAdmin as SimpleHistoryAdmin  # history pages read-only, scoped

from .models import Fund, Grant
from .services import fund_check_change, grant_verify_pdf


@admin.register(Fund)
class FundAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "name",
        "country_programme",
        "currency",
        "ceiling_display",
        "approved_display",
        "remaining_display",
        "opens_on",
        "closes_on",
    ]
    list_filter = ["country_programme", "currency"]
    search_fields = ["name", "description"]
    date_hierarchy = "opens_on"

    def get_queryset(self, request):
        zero = Value(0, output_field=DecimalField(max_digits=14, decimal_places=2))
        return (
            super()
            .get_queryset(request)
            .select_related("country_programme")
            .annotate(approved=Coalesce(Sum("grants__amount"), zero))
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class FundForm(form_class):
            def clean(self):
                cleaned = super().clean()
                if self.instance.pk:
                    try:
                        fund_check_change(
                            fund=self.instance,
                            ceiling=cleaned.get("ceiling"),
                            currency=cleaned.get("currency"),
                        )
                    except ValidationError as exc:
                        self.add_error(None, exc)
                return cleaned

        return FundForm

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if change:
                Fund.objects.select_for_update().only("pk").get(pk=obj.pk)
                fund_check_change(fund=obj, ceiling=obj.ceiling, currency=obj.currency)
            super().save_model(request, obj, form, change)

    @admin.display(description=_("ceiling"), ordering="ceiling")
    def ceiling_display(self, obj):
        return money.format_money(obj.ceiling, obj.currency)

    @admin.display(description=_("approved"), ordering="approved")
    def approved_display(self, obj):
        return money.format_money(obj.approved, obj.currency)

    @admin.display(description=_("remaining"))
    def remaining_display(self, obj):
        return money.format_money(obj.ceiling - obj.approved, obj.currency)


@admin.register(Grant)
class GrantAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Grants are created by approving a proposal, never by hand; nobody edits one here."""

    list_display = ["proposal", "fund", "amount_display", "approved_by", "approved_at", "pdf_sha256"]
    list_filter = ["fund", "fund__country_programme"]
    search_fields = ["proposal__title", "proposal__cop__name"]
    date_hierarchy = "approved_at"
    actions = ["verify_pdfs"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("proposal__cop", "fund", "approved_by")

    @admin.action(description=_("Verify the stored PDFs against their recorded SHA-256"))
    def verify_pdfs(self, request, queryset):
        bad = [grant for grant in queryset if not grant_verify_pdf(grant)]
        checked = len(queryset)
        if bad:
            self.message_user(
                request,
                _("%(n)d of %(total)d PDFs differ from their recorded SHA-256 or are missing: %(list)s")
                % {"n": len(bad), "total": checked, "list": "; ".join(str(g.proposal) for g in bad)},
                level=messages.ERROR,
            )
        else:
            self.message_user(
                request,
                _("All %(total)d PDFs match their recorded SHA-256.") % {"total": checked},
                messages.SUCCESS,
            )

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return money.format_money(obj.amount, obj.currency)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
