"""Stopping a background task that loses a cancellation, as Python 3.11's wait_for can."""

from __future__ import annotations

import asyncio

from sidecar.tasks import stop_task


async def test_a_task_that_loses_the_first_cancellation_is_still_stopped() -> None:
    lost = asyncio.Event()

    async def loses_one() -> None:
        try:
            await asyncio.sleep(30)  # a wait only a cancellation ends
        except asyncio.CancelledError:
            lost.set()  # swallowed, as asyncio.wait_for does when its inner future just finished
        await asyncio.sleep(30)

    task = asyncio.create_task(loses_one())
    await asyncio.sleep(0)  # one turn of the loop: the task is waiting (no timing involved)
    await asyncio.wait_for(stop_task(task), timeout=5)
    assert lost.is_set()
    assert task.cancelled()


async def test_a_finished_task_or_none_is_left_as_it_is() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    task = asyncio.create_task(fails())
    await asyncio.wait({task})
    await stop_task(task)  # its error is retrieved, not raised
    await stop_task(None)
    assert isinstance(task.exception(), ValueError)


async def test_a_cancelled_tasks_own_clean_up_is_not_interrupted() -> None:
    cleaned = asyncio.Event()

    async def cleans_up() -> None:
        try:
            await asyncio.sleep(30)  # a wait only a cancellation ends
        finally:
            await asyncio.sleep(0.3)  # e.g. dropping a lease in Redis
            cleaned.set()

    task = asyncio.create_task(cleans_up())
    await asyncio.sleep(0)  # one turn of the loop: the task is waiting (no timing involved)
    await stop_task(task)
    assert cleaned.is_set()
    assert task.cancelled()
