"""The gate: every entry provably from its own State, every change allowed, and the release that runs it."""
