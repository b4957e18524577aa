"""Entries: strict loading, the schema and the rules, the typed model (load -> validate -> model)."""
