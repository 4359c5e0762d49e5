from django.urls import path

from . import views

app_name = "activities"

urlpatterns = [
    path("", views.ReportListView.as_view(), name="report-list"),
    path("grants/<int:pk>/", views.GrantReportsView.as_view(), name="grant-reports"),
    path("grants/<int:pk>/new/", views.ReportCreateView.as_view(), name="report-create"),
    path("<int:pk>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("<int:pk>/edit/", views.ReportEditView.as_view(), name="report-edit"),
    path("<int:pk>/submit/", views.ReportSubmitView.as_view(), name="report-submit"),
    path("<int:pk>/review/", views.ReportReviewView.as_view(), name="report-review"),
    path("<int:pk>/publish/", views.ReportPublishView.as_view(), name="report-publish"),
    path("<int:pk>/outputs/new/", views.OutputCreateView.as_view(), name="output-create"),
    path("<int:pk>/lessons/new/", views.LessonCreateView.as_view(), name="lesson-create"),
    path("photos/<int:pk>/", views.PhotoView.as_view(), name="photo"),
    path("outputs/<int:pk>/file/", views.OutputFileView.as_view(), name="output-file"),
]
