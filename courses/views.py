from dataclasses import dataclass

from django.shortcuts import get_object_or_404, render
from django.views.generic import DetailView

from courses.models import Course, Lesson, Tag


def catalogue(request):
    courses = Course.objects.for_catalogue(request.user)
    return render(request, "courses/catalogue.html", {"courses": courses})


def course_detail(request, course: str):
    course = get_object_or_404(Course.objects.visible_to(request.user), slug=course)
    lessons = (
        Lesson.objects.visible_to(request.user).filter(course=course).select_related("course").order_by("position")
    )
    return render(request, "courses/course_detail.html", {"course": course, "lessons": lessons})


def tag_detail(request, tag: str):
    tag = get_object_or_404(Tag, slug=tag)
    lessons = (
        Lesson.objects.visible_to(request.user)
        .filter(tags=tag)
        .select_related("course")
        .order_by("course__position", "course__title", "position")
    )
    return render(request, "courses/tag_detail.html", {"tag": tag, "lessons": lessons})


@dataclass
class Neighbours:
    """Where a lesson stands among the lessons of its course that the reader can see."""

    number: int
    total: int
    previous: Lesson | None
    next: Lesson | None


class LessonDetailView(DetailView):
    template_name = "courses/lesson_detail.html"
    context_object_name = "lesson"

    def get_object(self, queryset=None) -> Lesson:
        lessons = Lesson.objects.visible_to(self.request.user).with_page_relations()
        return get_object_or_404(lessons, course__slug=self.kwargs["course"], slug=self.kwargs["lesson"])

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        lesson = self.object
        siblings = list(
            Lesson.objects.visible_to(self.request.user)
            .filter(course=lesson.course)
            .order_by("position")
            .only("slug", "title", "position", "course_id")
        )
        index = next(i for i, sibling in enumerate(siblings) if sibling.pk == lesson.pk)
        for sibling in siblings:
            sibling.course = lesson.course  # for get_absolute_url without a query each
        context["position"] = Neighbours(
            number=index + 1,
            total=len(siblings),
            previous=siblings[index - 1] if index > 0 else None,
            next=siblings[index + 1] if index + 1 < len(siblings) else None,
        )
        return context
