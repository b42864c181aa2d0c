"""``python -m bridge.demo``."""

from bridge.demo.walkthrough import main

raise SystemExit(main())
