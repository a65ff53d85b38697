"""Work this process does after answering: one named thread per kind of work (jobs, photos,
mail), made when first used. One thread each, because the work is CPU- or I/O-bound and the
web requests need the other core; a kind whose work must survive the process goes on the Redis
queue instead (supervision/jobs/queue.py)."""

import threading
from concurrent.futures import Future, ThreadPoolExecutor

_threads: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def submit(name: str, work, *args) -> Future:
    """Run `work(*args)` on the thread named `name`, after what was submitted there before."""
    with _lock:
        if name not in _threads:
            _threads[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        thread = _threads[name]
    return thread.submit(work, *args)


def drain(name: str) -> None:
    """Block until everything submitted to `name` so far has finished (tests, benchmarks)."""
    submit(name, lambda: None).result()
