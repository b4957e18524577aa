"""Writers: one module per wire format. Each takes model objects and returns bytes (and,
where the format is read back, parses bytes into model objects). None touches files."""
