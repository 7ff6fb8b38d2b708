"""Progress of an in-process run: step starts read from the run's event log by a poller thread
(the job itself runs in the caller's thread, with console logging at ERROR)."""

import contextlib
import threading
from collections.abc import Callable, Iterator

import dagster as dg

#: How often the poller reads the run's event log.
POLL_SECONDS = 0.5


@contextlib.contextmanager
def step_progress(
    instance: dg.DagsterInstance,
    run_id: str,
    say: Callable[[str], None],
    on_step: Callable[[int, int, str], None] | None,
    total: int,
) -> Iterator[None]:
    """Forward each step start of the run to `say` and `on_step(done, total, step)`."""
    stop = threading.Event()

    def poll() -> None:
        seen: set[str] = set()
        while not stop.wait(POLL_SECONDS):
            # the run's storage may be busy or briefly unreadable: progress is a courtesy, the
            # run's own outcome is read after it ends
            with contextlib.suppress(Exception):
                for rec in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START):
                    step = rec.step_key or ""
                    if step and step not in seen:
                        seen.add(step)
                        say(f"Running {step} …")
                        if on_step:
                            on_step(len(seen), total, step)

    thread = threading.Thread(target=poll, name="subops-build-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
