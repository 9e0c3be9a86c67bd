"""Progress bars for long derivations: on a terminal only, and only once the work has run for a
couple of seconds (short derivations never show one).

The command line turns them off with ``--quiet``; library users can set :data:`ENABLED`.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Whether long derivations show a progress bar (on a terminal).
ENABLED = True
#: Seconds of work before a bar appears.
DELAY = 2.0


def progress(iterable: Iterable, desc: str, total: int | None = None) -> Iterable:
    """``iterable``, wrapped in a delayed tqdm bar on stderr when enabled and on a terminal.

    Examples
    --------
    >>> list(progress(range(3), "terms"))
    [0, 1, 2]
    """
    if not ENABLED:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, delay=DELAY, disable=None, leave=False)
