from django.urls import path

from comments import views

app_name = "comments"

urlpatterns = [
    path("comments/lessons/<int:lesson_id>/", views.post_comment, name="post"),
    path("comments/lessons/<int:lesson_id>/more/", views.more_threads, name="more"),
    path("comments/lessons/<int:lesson_id>/follow/", views.follow, name="follow"),
    path("comments/lessons/<int:lesson_id>/report/", views.report_problem, name="report"),
    path("comments/preview/", views.preview, name="preview"),
    path("comments/<int:pk>/", views.show_comment, name="comment"),
    path("comments/<int:pk>/edit/", views.edit_comment, name="edit"),
    path("comments/<int:pk>/delete/", views.delete_comment, name="delete"),
    path("comments/<int:pk>/flag/", views.flag_comment, name="flag"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.mark_notifications_read, name="mark_read"),
    path("notifications/<int:pk>/", views.open_notification, name="open_notification"),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
