"""Hypothesis profiles shared by the whole suite.

Why profiles: property tests must be reproducible in CI (a red build that turns green on re-run
teaches nobody anything) yet keep exploring new inputs on developer machines. Both profiles
disable the deadline (CI runners and 2-core laptops have noisy timings) and print the
reproduction blob of a failure, so any failing example can be replayed with
``@reproduce_failure``.

Selection: ``HYPOTHESIS_PROFILE`` if set, else ``ci`` when the ``CI`` environment variable is
true (GitHub Actions, GitLab and most runners set ``CI=true``), else ``dev``.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile(
    "ci",
    deadline=None,
    print_blob=True,
    derandomize=True,  # the same examples on every run: failures are not flaky
    database=None,  # nothing to persist on a throw-away runner
)


def _profile() -> str:
    explicit = os.environ.get("HYPOTHESIS_PROFILE")
    if explicit:
        return explicit
    ci = os.environ.get("CI", "").strip().lower()
    return "ci" if ci and ci not in ("0", "false", "no") else "dev"


settings.load_profile(_profile())
