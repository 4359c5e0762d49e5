"""URLs of the proposal PDFs, without an app_name: appended to the `proposals` namespace
(`proposals:proposal-pdf`, `proposals:proposal-preview-pdf`)."""

from django.urls import path

from . import views_pdf

urlpatterns = [
    path("<int:pk>/pdf/", views_pdf.ProposalPdfView.as_view(), name="proposal-pdf"),
    path("<int:pk>/preview.pdf", views_pdf.ProposalPreviewPdfView.as_view(), name="proposal-preview-pdf"),
]
