"""Eager resolvers: a value at once when nothing is waited for, the same coroutine resumed when
something is (pure: no database)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable

import pytest
from strawberry.dataloader import DataLoader

from schema.eager import eager, load_all, run_eagerly


async def _done(value: int) -> int:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return await future


async def test_a_coroutine_that_never_waits_gives_its_value_at_once() -> None:
    steps: list[str] = []

    async def resolver() -> int:
        steps.append("ran")
        return await _done(41) + 1

    assert run_eagerly(resolver()) == 42
    assert steps == ["ran"]


async def test_a_coroutine_that_waits_is_resumed_where_it_stopped() -> None:
    steps: list[str] = []

    async def resolver() -> str:
        steps.append("before")
        await asyncio.sleep(0.001)
        steps.append("after")
        return "late"

    result = run_eagerly(resolver())
    assert inspect.isawaitable(result)
    assert steps == ["before"]  # ran up to its first wait, once
    assert await result == "late"
    assert steps == ["before", "after"]


async def test_errors_come_out_where_they_happen() -> None:
    async def fails_now() -> None:
        raise ValueError("now")

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("later")

    with pytest.raises(ValueError, match="now"):
        run_eagerly(fails_now())
    later = run_eagerly(fails_later())
    assert isinstance(later, Awaitable)
    with pytest.raises(ValueError, match="later"):
        await later


async def test_cancelling_the_waiting_task_cancels_the_coroutine() -> None:
    cleaned: list[bool] = []

    async def resolver() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            cleaned.append(True)

    pending = run_eagerly(resolver())
    assert isinstance(pending, Awaitable)

    async def wait() -> None:
        await pending

    task = asyncio.create_task(wait())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]


async def test_eager_keeps_the_resolver_signature_for_strawberry() -> None:
    async def resolver(self: object, first: int = 3) -> list[int]:
        return list(range(first))

    wrapped = eager(resolver)
    assert not inspect.iscoroutinefunction(wrapped)  # Strawberry takes the synchronous path
    assert inspect.signature(wrapped) == inspect.signature(resolver)
    assert wrapped.__annotations__ == resolver.__annotations__
    assert wrapped(object(), first=2) == [0, 1]


async def test_load_all_batches_and_keeps_order() -> None:
    batches: list[list[str]] = []

    async def load(keys: list[str]) -> list[str]:
        batches.append(keys)
        return [k.upper() for k in keys]

    loader = DataLoader(load_fn=load)
    assert await load_all(loader, ["b", "a", "c"]) == ["B", "A", "C"]
    assert batches == [["b", "a", "c"]]
    # Everything cached now: no waiting, so an eager resolver answers at once.
    assert run_eagerly(load_all(loader, ["c", "a"])) == ["C", "A"]
    assert batches == [["b", "a", "c"]]


async def test_two_eager_resolvers_may_wait_for_the_same_future() -> None:
    # Two fields of one client waiting for the same DataLoader key, neither handed to a task yet.
    shared: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def resolver(n: int) -> int:
        return await shared + n

    first, second = run_eagerly(resolver(1)), run_eagerly(resolver(2))
    assert isinstance(first, Awaitable) and isinstance(second, Awaitable)
    asyncio.get_running_loop().call_later(0.001, shared.set_result, 40)
    assert list(await asyncio.gather(first, second)) == [41, 42]


def test_the_link_resolvers_of_the_graph_types_are_eager() -> None:
    # A client page primes the loaders; a plain `async def` resolver would still be scheduled.
    from strawberry.types.base import get_object_definition

    from schema.types import Client, ClientGroup, Department, Facility, Manager, Product

    resolvers = [
        (cls.__name__, f.name, f.base_resolver)
        for cls in (Client, ClientGroup, Department, Facility, Manager, Product)
        for f in get_object_definition(cls, strict=True).fields
        if f.base_resolver is not None
    ]
    assert len(resolvers) > 20
    assert [(c, name) for c, name, r in resolvers if r.is_async] == []
