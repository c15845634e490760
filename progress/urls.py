from django.urls import path

from progress import views

app_name = "progress"

urlpatterns = [
    path("progress/lessons/<int:lesson_id>/complete/", views.complete, name="complete"),
    path("progress/lessons/<int:lesson_id>/uncomplete/", views.uncomplete, name="uncomplete"),
    path("progress/exercises/<int:lesson_id>/done/", views.exercise_done, name="exercise_done"),
    path("progress/exercises/<int:lesson_id>/solution/", views.solution, name="solution"),
    path("progress/sync/", views.sync, name="sync"),
    path("me/", views.me, name="me"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("xp/", views.how_xp_works, name="how_xp_works"),
]
