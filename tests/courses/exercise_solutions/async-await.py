"""Reference solution of the exercise of content/asyncio/01-async-await.md (tests/courses/test_demo_exercises.py)."""

import asyncio
import time


async def fetch_page(url: str, delay: float) -> str:
    await asyncio.sleep(delay)  # 기다리는 동안 이벤트 루프는 다른 일을 한다
    return f"<html>{url}</html>"


async def fetch_in_order(pages: list[tuple[str, float]]) -> list[str]:
    results = []
    for url, delay in pages:
        results.append(await fetch_page(url, delay))
    return results


async def main() -> None:
    start = time.perf_counter()
    pages = await fetch_in_order([("a.com", 0.3), ("b.com", 0.5), ("c.com", 0.2)])
    print(pages)
    print(f"전체 {time.perf_counter() - start:.2f}초")


if __name__ == "__main__":
    asyncio.run(main())
