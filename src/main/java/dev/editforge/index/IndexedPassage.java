package dev.editforge.index;

/**
 * One passage as a shard stores it. {@code vector} is null only for indexes built without dense
 * vectors.
 */
public record IndexedPassage(
    String passageId, String sourceId, String title, String text, float[] vector) {}
