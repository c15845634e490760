"""Reference solution of the exercise of content/asyncio/02-tasks-and-gather.md
(tests/courses/test_demo_exercises.py)."""

import asyncio
import contextlib
import time


async def fetch_weather(city: str, delay: float) -> str:
    await asyncio.sleep(delay)
    if city == "Atlantis":
        raise LookupError(city)
    return f"{city}: 맑음"


async def fetch_all(cities: dict[str, float]) -> list:
    return await asyncio.gather(
        *(fetch_weather(city, delay) for city, delay in cities.items()), return_exceptions=True
    )


async def in_arrival_order(cities: dict[str, float]) -> list[str]:
    arrived = []
    for next_done in asyncio.as_completed([fetch_weather(city, delay) for city, delay in cities.items()]):
        with contextlib.suppress(LookupError):  # 실패한 도시는 건너뛴다
            arrived.append(await next_done)
    return arrived


async def main() -> None:
    cities = {"Seoul": 0.3, "Busan": 0.1, "Atlantis": 0.2, "Jeju": 0.5, "Incheon": 0.4}
    start = time.perf_counter()
    for city, result in zip(cities, await fetch_all(cities), strict=True):
        if isinstance(result, Exception):
            print(f"{city}: 실패 ({result!r})")
        else:
            print(result)
    print(f"전체 {time.perf_counter() - start:.2f}초")
    print(await in_arrival_order(cities))


if __name__ == "__main__":
    asyncio.run(main())
