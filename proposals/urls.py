from django.urls import path

from . import budget_io_urls, pdf_urls, views

app_name = "proposals"

urlpatterns = [
    path("", views.ProposalListView.as_view(), name="proposal-list"),
    path("new/", views.ProposalCreateView.as_view(), name="proposal-create"),
    path("<int:pk>/", views.ProposalDetailView.as_view(), name="proposal-detail"),
    path("<int:pk>/edit/", views.ProposalEditView.as_view(), name="proposal-edit"),
    path("<int:pk>/budget-totals/", views.ProposalBudgetTotalsView.as_view(), name="proposal-budget-totals"),
    path("<int:pk>/endorse/", views.ProposalEndorseView.as_view(), name="proposal-endorse"),
    path("<int:pk>/submit/", views.ProposalSubmitView.as_view(), name="proposal-submit"),
    path("<int:pk>/withdraw/", views.ProposalWithdrawView.as_view(), name="proposal-withdraw"),
    path("<int:pk>/applicants/add/", views.ApplicantAddView.as_view(), name="applicant-add"),
    path("<int:pk>/applicants/remove/", views.ApplicantRemoveView.as_view(), name="applicant-remove"),
    path(
        "<int:pk>/applicants/<int:organisation>/remove/",
        views.ApplicantRemoveConfirmView.as_view(),
        name="applicant-remove-confirm",
    ),
    path("<int:pk>/versions/", views.ProposalVersionsView.as_view(), name="proposal-versions"),
]

# PDFs (approved download, draft preview) live in their own module; same namespace.
urlpatterns += pdf_urls.urlpatterns

# Budget spreadsheets (template, workbooks, import).
urlpatterns += budget_io_urls.urlpatterns
