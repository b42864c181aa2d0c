"""``python -m bridge.cli`` (what the tests and benchmarks run as the worker process)."""

from bridge.cli.main import main

raise SystemExit(main())
