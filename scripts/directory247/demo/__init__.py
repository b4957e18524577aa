"""The demonstration directory and its public test keys (never for real use)."""
