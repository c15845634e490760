from django.urls import path

from courses import views

app_name = "courses"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("courses/<str:course>/", views.course_detail, name="course"),
    path("courses/<str:course>/<str:lesson>/", views.LessonDetailView.as_view(), name="lesson"),
    path("tags/<str:tag>/", views.tag_detail, name="tag"),
]
