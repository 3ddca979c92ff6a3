package dev.editforge.ingest;

/** One input file after validation: its kind, fully qualified location, size and fingerprint. */
public record ResolvedInput(
    InputKind kind, String spec, String file, long length, String fingerprint) {}
