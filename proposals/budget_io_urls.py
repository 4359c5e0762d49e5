"""URLs of the budget spreadsheets, without an app_name: appended to the `proposals` namespace
(`proposals:budget-template`, `proposals:proposal-budget-template`,
`proposals:proposal-budget-xlsx`, `proposals:proposal-budget-import`,
`proposals:fund-budget-xlsx`)."""

from django.urls import path

from . import views_budget_io as views

urlpatterns = [
    path("budget-template.xlsx", views.BudgetTemplateView.as_view(), name="budget-template"),
    path(
        "<int:pk>/budget-template.xlsx",
        views.ProposalBudgetTemplateView.as_view(),
        name="proposal-budget-template",
    ),
    path("<int:pk>/budget.xlsx", views.ProposalBudgetXlsxView.as_view(), name="proposal-budget-xlsx"),
    path("<int:pk>/budget/import/", views.ProposalBudgetImportView.as_view(), name="proposal-budget-import"),
    path("funds/<int:pk>/budget.xlsx", views.FundBudgetXlsxView.as_view(), name="fund-budget-xlsx"),
]
