"""Search over lessons and courses: PostgreSQL full-text search, with pg_trgm for near misses.

Every lesson and course has a ``SearchEntry`` (courses/models.py), written when it is saved
(``index_lessons``, ``index_courses``), never per request:

- ``vector``: its words, weighted A (title), B (tags, headings, code-block titles), C (summary),
  D (the text and the code), GIN-indexed for ``@@``;
- ``keywords``: the title, tags, headings and code-block titles as they are written, trigram-indexed
  (``gin_trgm_ops``), so a partial word or a typo in them still finds the lesson (``%>``);
- ``text``: the plain text that a result's passage is cut from.

Words are cut here in Python, the same way for what is stored and what is searched for, so a
``asyncio.gather()`` in the text is the two words ``asyncio`` and ``gather``, and English words are
stemmed by PostgreSQL's ``english`` configuration (``tasks`` finds ``task``). Every word of a query
must be found, each as the start of a word (``corout`` finds ``coroutine``).

PostgreSQL has no Korean dictionary, and Korean words carry their particles (코루틴을, 코루틴은): a
run of Hangul syllables is stored as its overlapping two-syllable pieces and its last syllable
(비동기 → 비동 동기 기), and a query's run as its pieces side by side (``'비동' <-> '동기'``), so any
run of syllables is found wherever it stands inside a word, a two-syllable query by one lookup.
"""

import functools
import operator
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from courses.events import content_changed
from courses.markdown import plain_text
from courses.models import Course, Lesson, SearchEntry

CONFIG = "english"
MAX_QUERY_LENGTH = 200
# pg_trgm's word similarity is only asked of queries this long: shorter ones have too few trigrams to compare,
# and longer ones are not typos (a word repeated forty times has few distinct trigrams, and would match).
MIN_TRIGRAM_QUERY = 4
MAX_TRIGRAM_QUERY = 40
# How much a near miss in the keywords adds to a result's full-text rank (ts_rank of a title word is about 0.6).
TRIGRAM_WEIGHT = 0.3
# ts_rank's normalization 1: divided by 1 + the log of the document's length, so a long lesson that mentions a
# word in passing does not outrank a short one about it.
RANK_NORMALIZATION = 1
PASSAGE_LENGTH = 220
PASSAGE_LEAD = 60  # characters of context before the first match
# Marking is a regular expression of alternatives tried at every character: it takes the longest words of
# the query, and looks for the passage's first match in the start of the text only, so a query of a
# hundred one-letter words cannot make twenty long lessons cost seconds.
MARKED_WORDS = 8
PASSAGE_SEARCHED = 20_000

HANGUL = "\uac00-\ud7a3"
_TOKEN = re.compile(rf"(?P<hangul>[{HANGUL}]+)|(?P<word>[^\W_{HANGUL}]+)")
_HANGUL_RUN = re.compile(rf"[{HANGUL}]+")
_LEXEME = re.compile(r"'((?:[^']|'')+)'")  # a lexeme in a tsquery's text, quotes doubled inside


@dataclass(frozen=True)
class Token:
    text: str
    hangul: bool

    def pieces(self) -> list[str]:
        """What is stored of a Hangul run: its two-syllable pieces, then its last syllable."""
        return [self.text[index : index + 2] for index in range(len(self.text) - 1)] + [self.text[-1]]


def english_stem(word: str) -> str:
    """``word`` without a plural or verb ending, near enough to mark the words its stem matched."""
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def normalize(text: str) -> str:
    """Compatibility forms folded (full-width letters are letters, a ㎞ sign is km), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def tokens(text: str) -> list[Token]:
    return [Token(match[0], hangul=bool(match["hangul"])) for match in _TOKEN.finditer(normalize(text))]


def document(text: str) -> str:
    """``text`` as the words the vector is made of: ``asyncio.gather()`` → ``asyncio gather``."""
    words = []
    for token in tokens(text):
        words.extend(token.pieces() if token.hangul else [token.text])
    return " ".join(words)


def vector(weighted: dict[str, str]) -> SearchVector:
    """The tsvector of texts by weight ("A" to "D"), as an expression for an INSERT."""
    return functools.reduce(
        operator.add,
        (
            SearchVector(Value(document(text), output_field=TextField()), config=CONFIG, weight=weight)
            for weight, text in weighted.items()
        ),
    )


@dataclass(frozen=True)
class Query:
    """What a reader searches for, cut into the words of a ``document``."""

    text: str
    tokens: tuple[Token, ...]
    # The lexemes PostgreSQL searched for (``searched_as``): English stems, stop words left out.
    lexemes: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, text: str) -> "Query":
        # A word said twice is one condition.
        return cls(text=" ".join(normalize(text).split()), tokens=tuple(dict.fromkeys(tokens(text))))

    def __bool__(self) -> bool:
        return bool(self.tokens)

    def tsquery(self) -> SearchQuery:
        """Every word as a prefix, every Hangul run as its pieces side by side; all of them required.

        Tokens hold letters and digits only, so quoting them is enough to keep tsquery syntax out.
        """
        terms = []
        for token in self.tokens:
            if token.hangul and len(token.text) > 1:
                terms.append("(" + " <-> ".join(f"'{piece}'" for piece in token.pieces()[:-1]) + ")")
            else:
                terms.append(f"'{token.text}':*")
        return SearchQuery(" & ".join(terms), search_type="raw", config=CONFIG)

    def _near_misses(self) -> bool:
        return MIN_TRIGRAM_QUERY <= len(self.text) <= MAX_TRIGRAM_QUERY

    def matches(self) -> Q:
        found = Q(vector=self.tsquery())
        if self._near_misses():
            found |= Q(keywords__trigram_word_similar=self.text)
        return found

    def rank(self):
        rank = SearchRank(F("vector"), self.tsquery(), normalization=RANK_NORMALIZATION)
        if self._near_misses():
            rank += TrigramWordSimilarity(self.text, "keywords") * TRIGRAM_WEIGHT
        return rank

    # Marking, in Python on the page's results only.

    def searched_as(self, tsquery: str) -> "Query":
        """This query, marking the words PostgreSQL searched for: ``tsquery`` is its text (``'run':* & …``)."""
        lexemes = (lexeme.replace("''", "'") for lexeme in _LEXEME.findall(tsquery))
        return replace(self, lexemes=tuple(lexeme for lexeme in lexemes if not _HANGUL_RUN.fullmatch(lexeme)))

    @functools.cached_property
    def _pattern(self) -> re.Pattern | None:
        """Whole words that start with a searched stem, and the Hangul runs of the query, longest first.

        Before ``searched_as``, a stem is guessed (``english_stem``). Hangul is marked as typed, not as
        the pairs of syllables it was searched as, so a run is marked whole.
        """
        if self.lexemes is None:
            words = [english_stem(token.text) for token in self.tokens if not token.hangul]
        else:
            words = list(self.lexemes)
        words += [token.text for token in self.tokens if token.hangul]
        alternatives = []
        for word in sorted(set(words), key=len, reverse=True)[:MARKED_WORDS]:
            if _HANGUL_RUN.fullmatch(word):
                alternatives.append(re.escape(word))
            else:
                alternatives.append(rf"(?<![^\W_]){re.escape(word)}[^\W_{HANGUL}]*")
        return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None

    def mark(self, text: str) -> SafeString:
        """``text`` escaped, with the words of the query in ``<mark>``."""
        return mark_safe(self._marked(text, 0, len(text)))

    def passage(self, text: str) -> SafeString:
        """About PASSAGE_LENGTH characters of ``text`` around the first word of the query found in it, marked."""
        text = " ".join(text.split())
        found = self._pattern.search(text, 0, PASSAGE_SEARCHED) if self._pattern else None
        start = 0 if found is None else max(0, found.start() - PASSAGE_LEAD)
        if start:  # begin at a word
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < found.start() else start
        end = start + PASSAGE_LENGTH
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > (found.end() if found else start) else end
        else:
            end = len(text)
        return mark_safe(("…" if start else "") + self._marked(text, start, end) + ("…" if end < len(text) else ""))

    def _marked(self, text: str, start: int, end: int) -> str:
        pieces = []
        position = start
        if self._pattern:
            for match in self._pattern.finditer(text, start, end):
                pieces.append(escape(text[position : match.start()]))
                pieces.append(f"<mark>{escape(match[0])}</mark>")
                position = match.end()
        pieces.append(escape(text[position:end]))
        return "".join(pieces)


def search(query: Query, user) -> QuerySet:
    """The entries of lessons and courses ``user`` may read that match ``query``, best first."""
    return (
        SearchEntry.objects.visible_to(user)
        .filter(query.matches())
        .annotate(rank=query.rank(), searched=Cast(query.tsquery(), TextField()))
        .select_related("lesson__course", "course")
        .only(
            "text",
            "lesson__title",
            "lesson__slug",
            "lesson__status",
            "lesson__published_at",
            "lesson__reading_minutes",
            "lesson__course__title",
            "lesson__course__slug",
            "lesson__course__status",
            "lesson__course__language",
            "course__title",
            "course__slug",
            "course__status",
            "course__language",
        )
        .order_by("-rank", "pk")
    )


@contextmanager
def index_scans() -> Iterator[None]:
    """Run the search's queries inside this: PostgreSQL then reads the GIN indexes, not every entry.

    Its planner does not count the cost of reading values stored out of line (TOAST), and nearly all of an
    entry is: its vector of about 9 KB. So it prices a scan of all 5,000 entries (in order, or along the
    course_id index) at the ~100 pages of the table proper, picks it, and reads 50 MB: 60 to 170 ms where
    the bitmap scans of the two GIN indexes take 2 to 20 (``make bench`` prints the plans). With plain
    scans priced out, the joins to lessons and courses go through their primary keys as bitmap scans too.
    ``SET LOCAL`` lasts to the end of this transaction only.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        yield


# Writing the entries: at save time (Lesson.save, Course.save, the tag signals in courses/signals.py).


def lesson_entry(*, title: str, summary: str, body: str, exercise: str, tags: Iterable[str]) -> dict:
    body, exercise = plain_text(body), plain_text(exercise)
    labels = [*tags, *body.headings, *exercise.headings, *body.code_titles, *exercise.code_titles]
    return {
        "vector": vector({"A": title, "B": "\n".join(labels), "C": summary, "D": f"{body.text}\n{exercise.text}"}),
        "keywords": "\n".join([title, *labels]),
        "text": "\n".join(part for part in (summary, body.text, exercise.text) if part),
    }


def course_entry(*, title: str, summary: str, description: str) -> dict:
    description = plain_text(description)
    return {
        "vector": vector({"A": title, "B": "\n".join(description.headings), "C": summary, "D": description.text}),
        "keywords": "\n".join([title, *description.headings]),
        "text": "\n".join(part for part in (summary, description.text) if part),
    }


UPSERT = {"update_conflicts": True, "update_fields": ["vector", "keywords", "text"]}
BATCH_SIZE = 200


def index_lessons(lessons: Iterable[Lesson]) -> None:
    """Write the search entries of ``lessons`` (with their tags prefetched, or a query each)."""
    entries = [
        SearchEntry(
            lesson_id=lesson.pk,
            **lesson_entry(
                title=lesson.title,
                summary=lesson.summary,
                body=lesson.body,
                exercise=lesson.exercise,
                tags=[tag.name for tag in lesson.tags.all()],
            ),
        )
        for lesson in lessons
    ]
    SearchEntry.objects.bulk_create(entries, unique_fields=["lesson"], batch_size=BATCH_SIZE, **UPSERT)


def index_courses(courses: Iterable[Course]) -> None:
    entries = [
        SearchEntry(
            course_id=course.pk,
            **course_entry(title=course.title, summary=course.summary, description=course.description),
        )
        for course in courses
    ]
    SearchEntry.objects.bulk_create(entries, unique_fields=["course"], batch_size=BATCH_SIZE, **UPSERT)


def reindex_all() -> None:
    """Every entry written afresh (``manage.py rebuild_search_index``; after a bulk_create of lessons)."""
    index_courses(Course.objects.iterator(chunk_size=BATCH_SIZE))
    lessons = Lesson.objects.only("title", "summary", "body", "exercise").prefetch_related("tags")
    index_lessons(lessons.iterator(chunk_size=BATCH_SIZE))
    content_changed.send(sender=__name__)  # kept search results were made from the entries before
