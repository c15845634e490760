"""Fill a ``*_bench`` database with generated lessons for timing search (``make bench``).

    manage.py build_search_bench --lessons 500
    manage.py build_search_bench --lessons 5000     # adds lessons until there are 5,000

The lessons are written from fixed vocabularies, English and Korean, by a seeded random generator, so
every run makes the same corpus: courses of 100 lessons, alternately in English and in Korean, each
lesson a title of three words, a summary, eight paragraphs, a heading and a titled code block, about
5 KB of text. ``generate`` is what the relevance tests use too (tests/courses/test_search.py).
"""

import random
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from courses import search
from courses.models import Course, Lesson, Status

PREFIX = "search-bench-"
LESSONS_PER_COURSE = 100

ENGLISH = """
    async await coroutine task future event loop schedule cancel timeout deadline retry backoff queue
    producer consumer worker pool thread process lock mutex condition barrier signal handler callback
    stream reader writer socket server client request response header payload buffer chunk encoding decode
    parse token lexer grammar syntax tree node visitor compiler bytecode interpreter frame stack heap
    memory garbage collector reference cycle weak cache eviction hash table dictionary list tuple set
    iterator generator comprehension closure decorator descriptor property metaclass inheritance mixin
    protocol interface abstract method function argument parameter keyword default annotation type checker
    generic variance dataclass enum module package import namespace path file directory archive compression
    checksum digest signature certificate secret password session cookie database transaction isolation
    index query planner join aggregate migration schema column constraint sorting search binary linear
    recursion memoization dynamic graph vertex edge traversal shortest benchmark profile latency throughput
    logging metrics tracing debugging assertion fixture mock
""".split()  # noqa: SIM905 (a word list reads best as words)

KOREAN = """
    비동기 동기 코루틴 태스크 이벤트 루프 스케줄 취소 시간 제한 재시도 대기열 생산자 소비자 작업자
    스레드 프로세스 잠금 조건 신호 처리기 콜백 스트림 소켓 서버 클라이언트 요청 응답 헤더 버퍼
    인코딩 구문 분석 토큰 문법 트리 노드 방문자 컴파일러 인터프리터 프레임 스택 메모리 참조 순환
    캐시 해시 테이블 사전 목록 반복자 생성기 클로저 데코레이터 속성 상속 프로토콜 인터페이스 함수
    인자 매개변수 기본값 타입 검사 모듈 패키지 경로 파일 압축 체크섬 서명 인증서 비밀번호 세션
    데이터베이스 트랜잭션 격리 인덱스 질의 조인 집계 스키마 정렬 탐색 재귀 그래프 간선 최단 경로
    성능 지연 처리량 로깅 지표 추적 디버깅 단언 예외 오류 결과 값 객체 클래스 변수
""".split()  # noqa: SIM905 (a word list reads best as words)

PARTICLES = ["", "", "을", "를", "이", "가", "은", "는", "의", "에서", "으로", "와", "도"]

# Besides the real words, made-up ones, so that most words are rare, as in real text: words are drawn
# with Zipf's law (the n-th most common word n times rarer than the first) from 3,000 of each language.
_LATIN_SYLLABLES = """
    ba be bi bo bu da de di do du fa fe fi fo ka ke ki ko la le li lo ma me mi mo na ne ni no
""".split()  # noqa: SIM905 (a word list reads best as words)
_HANGUL_SYLLABLES = """
    가 나 다 라 마 바 사 아 자 차 카 타 파 하 고 노 도 로 모 보 소 오 조 호 기 니 디 리 미 비
""".split()  # noqa: SIM905 (a word list reads best as words)
MADE_UP = 3000


def _made_up(syllables: list[str], rng: random.Random) -> list[str]:
    words = set()
    while len(words) < MADE_UP:
        words.add("".join(rng.choices(syllables, k=rng.randint(2, 4))))
    return sorted(words)


def _vocabulary(real: list[str], syllables: list[str], seed: str) -> tuple[list[str], list[float]]:
    rng = random.Random(seed)
    words = real + _made_up(syllables, rng)
    rng.shuffle(words)
    return words, [1 / rank for rank in range(1, len(words) + 1)]


ENGLISH_ZIPF = _vocabulary(ENGLISH, _LATIN_SYLLABLES, "english")
KOREAN_ZIPF = _vocabulary(KOREAN, _HANGUL_SYLLABLES, "korean")


def _words(rng: random.Random, vocabulary: tuple[list[str], list[float]], count: int) -> list[str]:
    words, weights = vocabulary
    return rng.choices(words, weights=weights, k=count)


def _english_sentence(rng: random.Random) -> str:
    words = _words(rng, ENGLISH_ZIPF, rng.randint(8, 16))
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _korean_sentence(rng: random.Random) -> str:
    words = [word + rng.choice(PARTICLES) for word in _words(rng, KOREAN_ZIPF, rng.randint(6, 12))]
    if rng.random() < 0.5:  # Korean lessons name their code in English
        words.insert(rng.randrange(len(words)), rng.choice(ENGLISH))
    return " ".join(words) + "."


def _lesson_fields(rng: random.Random, korean: bool) -> dict:
    sentence = _korean_sentence if korean else _english_sentence
    vocabulary = KOREAN if korean else ENGLISH
    paragraphs = [" ".join(sentence(rng) for _ in range(rng.randint(5, 9))) for _ in range(8)]
    names = rng.sample(ENGLISH, 3)
    code = "\n".join(
        [
            f"async def {names[0]}({names[1]}):",
            f"    {names[2]} = await {names[1]}.{rng.choice(ENGLISH)}()",
            f"    return {names[2]}",
        ]
    )
    code_title = " ".join(rng.sample(vocabulary, 2))
    body = (
        f"{paragraphs[0]}\n\n## {' '.join(rng.sample(vocabulary, 2))}\n\n{paragraphs[1]}\n\n"
        f'```python title="{code_title}"\n{code}\n```\n\n{"\n\n".join(paragraphs[2:])}\n'
    )
    return {
        "title": " ".join(rng.sample(vocabulary, 3)),
        "summary": sentence(rng),
        "body": body,
        "exercise": sentence(rng),
    }


def generate(count: int, *, seed: int = 0, start: int = 0) -> list[Lesson]:
    """Lessons ``start`` to ``start + count`` of the corpus, published, in courses of 100, with search entries.

    Written with bulk_create (the HTML is not rendered: search reads the Markdown), then indexed.
    """
    published_at = timezone.now() - timedelta(days=1)
    courses = {}
    lessons = []
    for number in range(start, start + count):
        course_number, position = divmod(number, LESSONS_PER_COURSE)
        korean = course_number % 2 == 1
        if course_number not in courses:
            courses[course_number], _ = Course.objects.get_or_create(
                slug=f"{PREFIX}{course_number:03d}",
                defaults={
                    "title": f"Search corpus {course_number:03d}",
                    "status": Status.PUBLISHED,
                    "language": "ko" if korean else "en",
                    "position": 1000 + course_number,
                },
            )
        rng = random.Random(f"{seed}:{number}")
        lessons.append(
            Lesson(
                course=courses[course_number],
                slug=f"lesson-{position + 1:03d}",
                position=position + 1,
                status=Status.PUBLISHED,
                published_at=published_at,
                **_lesson_fields(rng, korean),
            )
        )
    lessons = Lesson.objects.bulk_create(lessons, batch_size=search.BATCH_SIZE)
    prefetch_related_objects(lessons, "tags")  # none, in one query rather than one a lesson
    search.index_lessons(lessons)
    return lessons


class Command(BaseCommand):
    help = "Add generated lessons to the benchmark database (its name must end in _bench) until there are --lessons."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--lessons", type=int, default=500)

    def handle(self, *args, lessons: int, **options) -> None:
        name = connection.settings_dict["NAME"]
        if not name.endswith("_bench"):
            raise CommandError(f"The database {name!r} is not a benchmark database (its name must end in _bench).")
        existing = Lesson.objects.filter(course__slug__startswith=PREFIX).count()
        if existing > lessons:
            with transaction.atomic():
                Course.objects.filter(slug__startswith=PREFIX).delete()
            existing = 0
        with transaction.atomic():
            generate(lessons - existing, start=existing)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE courses_searchentry")
        self.stdout.write(f"{Lesson.objects.count()} lessons in {name}.")
