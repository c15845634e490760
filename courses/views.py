import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import DetailView

from courses.forms import SearchForm
from courses.models import Course, CourseRedirect, Lesson, SearchEntry, Tag
from courses.search import Query, index_scans, search
from courses.selectors import course_outline, neighbours
from courses.sitemaps import SiteSitemap, sitemaps
from web.http import too_many_requests
from web.page_cache import cached_page, keep, kept, shared_copy

# Page sizes a reader expects of each list:
# - the catalogue's cards fill rows of 1, 2, 3 or 4 columns, and 24 fills every such row;
# - a course is read in order, and 100 rows show the whole of almost any course on one page;
# - a tag gathers lessons of many courses, like search results: 50 keep the page short.
CATALOGUE_PAGE_SIZE = 24
COURSE_PAGE_SIZE = 100
TAG_PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 20


def paginate(request, items, *, per_page: int, allow_empty: bool = True) -> dict:
    """The page of ``items`` that ``?page=N`` asks for, as template context.

    Anything but a page number in range is a 404 (not the last page, as Django's
    ``get_page`` would answer), so every page of a list has one URL. With
    ``allow_empty=False``, an empty list is a 404 too.
    """
    paginator = Paginator(items, per_page, allow_empty_first_page=allow_empty)
    number = request.GET.get("page", "1")
    if not (number.isascii() and number.isdigit()):  # int() would also take " 2", "+2" and "2_0"
        raise Http404("No such page.")
    try:
        page = paginator.page(number)
    except InvalidPage:
        raise Http404("No such page.") from None
    page_range = list(paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1))
    return {"page_obj": page, "page_range": page_range}


@cached_page
def catalogue(request):
    pagination = paginate(request, Course.objects.for_catalogue(request.user), per_page=CATALOGUE_PAGE_SIZE)
    return TemplateResponse(
        request, "courses/catalogue.html", {"courses": pagination["page_obj"].object_list, **pagination}
    )


def moved_course(request, slug: str) -> Course | None:
    """The course that was at ``slug`` before it was renamed, if the reader may see it."""
    moved = CourseRedirect.objects.filter(slug=slug).values_list("course_id", flat=True).first()
    return Course.objects.visible_to(request.user).filter(pk=moved).first() if moved else None


def moved_lesson(request, course: str, lesson: str) -> Lesson | None:
    """The lesson that was at /courses/<course>/<lesson>/ before it or its course moved, if the reader may see it.

    Asked only when no lesson is there now: a new lesson at an old address wins over the redirect.
    """
    addresses = [(course, lesson)]
    if (renamed := moved_course(request, course)) is not None:
        addresses.append((renamed.slug, lesson))
    for course_slug, lesson_slug in addresses:
        moved = (
            Lesson.objects.visible_to(request.user)
            .filter(redirects__course_slug=course_slug, redirects__lesson_slug=lesson_slug)
            .select_related("course")
            .first()
        )
        if moved is None and course_slug != course:
            moved = (
                Lesson.objects.visible_to(request.user)
                .filter(course__slug=course_slug, slug=lesson_slug)
                .select_related("course")
                .first()
            )
        if moved is not None:
            return moved
    return None


def course_lessons(request, course_id: int):
    """A published course's outline as JSON (``courses.selectors.course_outline``): the catalogue's script asks
    for the one course a visitor worked on last, to offer "Continue" from the progress their browser keeps.
    The same for everyone, so browsers and shared caches may keep it for a minute."""
    course = Course.objects.published().filter(pk=course_id).first()
    if course is None:
        return JsonResponse({"error": _("No such course.")}, status=404)
    response = JsonResponse(course_outline(course))
    response["Cache-Control"] = "public, max-age=60"
    return response


@cached_page
def course_detail(request, course: str):
    try:
        course = get_object_or_404(Course.objects.visible_to(request.user).for_page(), slug=course)
    except Http404:
        if (renamed := moved_course(request, course)) is not None:
            return HttpResponsePermanentRedirect(renamed.get_absolute_url())
        raise
    lessons = Lesson.objects.visible_to(request.user).filter(course=course).for_list().order_by("position")
    pagination = paginate(request, lessons, per_page=COURSE_PAGE_SIZE)
    return TemplateResponse(
        request,
        "courses/course_detail.html",
        {"course": course, "lessons": pagination["page_obj"].object_list, **pagination},
    )


@cached_page
def tag_detail(request, tag: str):
    """A tag's lessons; a 404 while the reader can see none of them (a tag of drafts stays private)."""
    tag = get_object_or_404(Tag, slug=tag)
    lessons = (
        Lesson.objects.visible_to(request.user)
        .filter(tags=tag)
        .for_list()
        .order_by("course__position", "course__title", "position")
    )
    pagination = paginate(request, lessons, per_page=TAG_PAGE_SIZE, allow_empty=False)
    return TemplateResponse(
        request,
        "courses/tag_detail.html",
        {"tag": tag, "lessons": pagination["page_obj"].object_list, **pagination},
    )


class LessonDetailView(DetailView):
    template_name = "courses/lesson_detail.html"
    context_object_name = "lesson"

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            if (moved := moved_lesson(request, kwargs["course"], kwargs["lesson"])) is not None:
                return HttpResponsePermanentRedirect(moved.get_absolute_url())
            raise

    def get_object(self, queryset=None) -> Lesson:
        lessons = Lesson.objects.visible_to(self.request.user).with_page_relations()
        return get_object_or_404(lessons, course__slug=self.kwargs["course"], slug=self.kwargs["lesson"])

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["position"] = neighbours(self.object, self.request.user)
        return context


@dataclass
class SearchResult:
    """One lesson or course found, with its title and passage marked where the query matched."""

    course: Course  # the course found, or the lesson's course
    lesson: Lesson | None
    title: str
    passage: str

    @classmethod
    def of(cls, entry: SearchEntry, query: Query) -> "SearchResult":
        found = entry.lesson or entry.course
        return cls(
            course=entry.lesson.course if entry.lesson else entry.course,
            lesson=entry.lesson,
            title=query.mark(found.title),
            passage=query.passage(entry.text),
        )

    @property
    def url(self) -> str:
        return (self.lesson or self.course).get_absolute_url()

    def is_published(self) -> bool:
        return (self.lesson or self.course).is_published()


def search_page(request):
    """Lessons and courses matching ``?q=``, best first: the same three queries however many there are."""
    form = SearchForm(request.GET)
    context = {"form": form}
    if form.is_valid() and (text := form.cleaned_data["q"]):
        # allauth's public consume() leaves GET requests alone; a search is one, so its own function is asked.
        if ratelimit.consume(request, app="allauth.account", action="search", limit_get=True) is None:
            form.add_error("q", _("Too many searches from your address. Wait a minute, then search again."))
            return TemplateResponse(request, "courses/search.html", context, status=429)
        pagination, results = search_results(request, Query.parse(text))
        context |= {**pagination, "query": text, "query_string": urlencode({"q": text}), "results": results}
    return TemplateResponse(request, "courses/search.html", context)


def search_results(request, query: Query) -> tuple[dict, list[SearchResult]]:
    """The page of results that ``?page=N`` asks for, and its pagination: kept for everyone who may read the same
    lessons (staff read drafts too), for ``PAGE_CACHE_SECONDS`` or until the content changes (``page_cache.kept``).
    """
    readers = "staff" if request.user.is_staff else "everyone"
    named = "\n".join([readers, query.text, request.GET.get("page", "1")])
    key = f"search:{hashlib.sha256(named.encode(errors='replace')).hexdigest()}"
    found, generation = kept(key) if settings.PAGE_CACHE_SECONDS else (None, 0)
    if found is not None:
        # Counted pages of the kept number of results: a page past the last is a 404 as before.
        return paginate(request, range(found["count"]), per_page=SEARCH_PAGE_SIZE), found["results"]
    with index_scans():
        pagination = paginate(request, search(query, request.user), per_page=SEARCH_PAGE_SIZE)
        entries = list(pagination["page_obj"].object_list)
    if entries:  # marked where PostgreSQL found them: its stems, without stop words
        query = query.searched_as(entries[0].searched)
    results = [SearchResult.of(entry, query) for entry in entries]
    found = {"count": pagination["page_obj"].paginator.count, "results": results}
    keep(key, found, generation=generation, seconds=settings.PAGE_CACHE_SECONDS)
    return pagination, results


def until_next_publication() -> float | None:
    """Seconds until the next scheduled lesson goes out, when the lists of published lessons change unasked."""
    at = Lesson.objects.next_publication()
    return None if at is None else (at - timezone.now()).total_seconds()


def sitemap_allowed(request) -> bool:
    # allauth's public consume() leaves GET requests alone; the sitemap is one, so its own function is asked.
    return ratelimit.consume(request, app="allauth.account", action="sitemap", limit_get=True) is not None


def refuse_sitemap(request):
    return too_many_requests(request, _("Too many sitemap requests from your address. Wait a minute, then try again."))


@shared_copy(params=("p",), fresh_for=until_next_publication)
def _sitemap(request):
    sections = {name: section() for name, section in sitemaps.items()}
    if sum(section.paginator.count for section in sections.values()) <= SiteSitemap.limit:
        return sitemap_views.sitemap(request, sitemaps=sections)
    return sitemap_views.index(request, sitemaps=sections, sitemap_url_name="sitemap_section")


def sitemap(request):
    """/sitemap.xml: every published page's URL while they fit in one file (the protocol's 50,000), else an index
    of the sections (``sitemap_section``). Made once per content change, and kept for everyone."""
    return _sitemap(request) if sitemap_allowed(request) else refuse_sitemap(request)


@shared_copy(params=("p",), fresh_for=until_next_publication)
def _sitemap_section(request, section: str):
    return sitemap_views.sitemap(request, sitemaps={name: cls() for name, cls in sitemaps.items()}, section=section)


def sitemap_section(request, section: str):
    """/sitemap-<section>.xml?p=N: a page of one section, listed by the index of a sitemap too large for one file."""
    return _sitemap_section(request, section) if sitemap_allowed(request) else refuse_sitemap(request)
