"""Reference solution of the exercise of content/asyncio/04-timeouts.md (tests/courses/test_demo_exercises.py)."""

import asyncio


async def call_api(name: str, seconds: float) -> str:
    await asyncio.sleep(seconds)
    return name


async def handle_request(delays: dict[str, float], budget: float) -> dict[str, str]:
    deadline = asyncio.get_running_loop().time() + budget
    result = {}
    for name in ("user", "recommend"):
        async with asyncio.timeout_at(deadline):
            result[name] = await call_api(name, delays[name])
    try:
        async with asyncio.timeout_at(deadline):
            result["ads"] = await call_api("ads", delays["ads"])
    except TimeoutError:
        result["ads"] = "광고 없음"
    return result


async def audit_log(log: list[str], seconds: float) -> None:
    await asyncio.sleep(seconds)
    log.append("기록 완료")


async def respond(log: list[str], audit_seconds: float, limit: float) -> tuple[str, asyncio.Task]:
    task = asyncio.create_task(audit_log(log, audit_seconds))
    try:
        async with asyncio.timeout(limit):
            await asyncio.shield(task)
    except TimeoutError:
        return "처리 중", task
    return "완료", task


async def main() -> None:
    print(await handle_request({"user": 0.4, "recommend": 0.6, "ads": 0.8}, 1.5))
    log: list[str] = []
    answer, task = await respond(log, 0.3, 0.1)
    print(answer)
    await task
    print(log)


if __name__ == "__main__":
    asyncio.run(main())
