"""Resolvers that return at once when their data is already loaded.

graphql-core completes a field synchronously when its resolver returns a value, and only builds
tasks and gathers when it returns an awaitable. Our link fields are `async def` because their data
may need a DataLoader round trip; but on a client page every loader was primed by the page's one
query, so the coroutine never actually waits, and the tasks, gathers and event-loop turns spent on
it (about 40 per page) are pure overhead.

`eager` runs a resolver's coroutine up to its first real suspension: a coroutine that finishes
without waiting gives its value directly; one that does wait is handed to graphql-core as an
awaitable that resumes it where it stopped. The coroutine runs once either way, so its behaviour
(and that of anything it awaits) is unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Generator, Hashable, Iterable
from typing import Any, ParamSpec, TypeVar

from strawberry.dataloader import DataLoader

P = ParamSpec("P")
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class _Resume(Awaitable[T]):
    """A started coroutine, awaited from the point where it first suspended."""

    __slots__ = ("_coro", "_pending")

    def __init__(self, coro: Coroutine[Any, Any, T], pending: Any) -> None:
        self._coro, self._pending = coro, pending

    def __await__(self) -> Generator[Any, Any, T]:
        coro, pending = self._coro, self._pending
        if getattr(pending, "_asyncio_future_blocking", None) is False:
            pending._asyncio_future_blocking = True  # as the future left it; see run_eagerly
        while True:
            # Hand what the coroutine waits on (a future) up to the task running us, and the
            # outcome back down to the coroutine: what `yield from coro` would do mid-flight.
            try:
                sent = yield pending
            except BaseException as exc:  # cancellation or an error thrown in by the task
                try:
                    pending = coro.throw(exc)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]


def run_eagerly(coro: Coroutine[Any, Any, T]) -> T | Awaitable[T]:
    """The coroutine's result now if it completes without waiting, else an awaitable of it."""
    try:
        pending = coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    # A future marks itself "blocking" when it suspends a coroutine, and the task that receives
    # it clears the mark. Until the resolver's awaitable is handed to a task, no task has: and
    # another coroutine awaiting the same future (two fields of one client wait for the same
    # DataLoader key) would be refused ("await wasn't used with future"). Clear it as a task
    # would, and set it again when the future finally goes up to one (`_Resume.__await__`).
    if getattr(pending, "_asyncio_future_blocking", None) is True:
        pending._asyncio_future_blocking = False
    return _Resume(coro, pending)


def eager(
    resolver: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, T | Awaitable[T]]:
    """Wrap an `async def` resolver with `run_eagerly` (Strawberry sees its signature and type)."""

    @functools.wraps(resolver)
    def run(*args: P.args, **kwargs: P.kwargs) -> T | Awaitable[T]:
        return run_eagerly(resolver(*args, **kwargs))

    return run


async def load_all(loader: DataLoader[K, T], keys: Iterable[K]) -> list[T]:
    """`loader.load_many` without `asyncio.gather`, which always suspends even when every value
    is cached. All loads are registered before the first await, so they still batch as one."""
    futures = [loader.load(key) for key in keys]
    return [await future for future in futures]
