"""Reference solution of the exercise of content/asyncio/05-queues.md (tests/courses/test_demo_exercises.py)."""

import asyncio


async def download(url: str, delay: float) -> str:
    await asyncio.sleep(delay)
    if "broken" in url:
        raise ConnectionError(url)
    return f"<html>{url}</html>"


async def producer(queue: asyncio.Queue, urls: list[str], workers: int) -> None:
    for url in urls:
        await queue.put(url)
    for _ in range(workers):
        await queue.put(None)  # 워커마다 센티널 하나


async def worker(queue: asyncio.Queue, delay: float, failed: list[str]) -> int:
    handled = 0
    while True:
        url = await queue.get()
        try:
            if url is None:
                return handled
            try:
                await download(url, delay)
            except ConnectionError:
                failed.append(url)
            handled += 1
        finally:
            queue.task_done()


async def crawl(urls: list[str], workers: int = 4, delay: float = 0.1) -> tuple[list[int], list[str]]:
    queue: asyncio.Queue = asyncio.Queue(maxsize=5)
    failed: list[str] = []
    async with asyncio.TaskGroup() as tg:
        tg.create_task(producer(queue, urls, workers))
        tasks = [tg.create_task(worker(queue, delay, failed)) for _ in range(workers)]
    return [task.result() for task in tasks], failed


async def main() -> None:
    urls = [f"/page/{n}" for n in range(19)] + ["/broken"]
    counts, failed = await crawl(urls)
    print(f"워커별 처리 건수 {counts}, 합계 {sum(counts)}")
    print(f"실패한 URL {failed}")


if __name__ == "__main__":
    asyncio.run(main())
