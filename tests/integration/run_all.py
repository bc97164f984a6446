# SPDX-License-Identifier: MIT
"""Entry point: imports every test module so its @test functions register, then runs them."""
import harness
import test_sched  # noqa: F401  (registers tests)
import test_cli  # noqa: F401
import test_loops  # noqa: F401
import test_go  # noqa: F401
import test_locks  # noqa: F401
import test_actors  # noqa: F401
import test_preload  # noqa: F401

if __name__ == "__main__":
    harness.main()
