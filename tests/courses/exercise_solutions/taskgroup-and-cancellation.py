"""Reference solution of the exercise of content/asyncio/03-taskgroup-and-cancellation.md
(tests/courses/test_demo_exercises.py)."""

import asyncio


async def check(service: str, delay: float, log: list[str]) -> str:
    try:
        await asyncio.sleep(delay)
        if service == "payments":
            raise ConnectionError(service)
        if service == "search":
            raise TimeoutError(service)
        return "ok"
    except asyncio.CancelledError:
        log.append(f"{service} 취소됨")
        raise  # 취소는 삼키지 않는다
    finally:
        log.append(f"{service} 정리")


async def health_report(services: dict[str, float], log: list[str]) -> dict[str, str]:
    report: dict[str, str] = {}
    tasks: dict[str, asyncio.Task] = {}
    try:
        async with asyncio.TaskGroup() as tg:
            for service, delay in services.items():
                tasks[service] = tg.create_task(check(service, delay, log))
    except* ConnectionError as group:
        for error in group.exceptions:
            report[str(error)] = "연결 실패"
    except* TimeoutError as group:
        for error in group.exceptions:
            report[str(error)] = "시간 초과"
    for service, task in tasks.items():
        if task.cancelled():
            report[service] = "취소됨"
        elif task.exception() is None:
            report[service] = task.result()
    return report


async def main() -> None:
    log: list[str] = []
    report = await health_report({"auth": 0.1, "payments": 0.2, "search": 0.2, "reports": 1.0}, log)
    print(report)
    print(log)


if __name__ == "__main__":
    asyncio.run(main())
