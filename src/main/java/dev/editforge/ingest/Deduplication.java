package dev.editforge.ingest;

import dev.editforge.text.SafeText;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Resolves records that share an id. The first in source order (file, then line) is kept; a later
 * record with the same content is an exact duplicate (dropped and counted); a later record with
 * different content is rejected, naming where the kept one came from. Pure and thread-safe.
 */
public final class Deduplication {
  /**
   * How much of the conflicting row a reject keeps (the row is whole, unlike a parser's sample).
   */
  private static final int RAW_CHARS = 2000;

  private Deduplication() {}

  public static List<Outcome> resolve(List<Parsed> sameKey) {
    List<Parsed> sorted = new ArrayList<>(sameKey);
    sorted.sort(Comparator.comparing((Parsed p) -> p.file).thenComparingLong(p -> p.line));
    List<Outcome> out = new ArrayList<>(sorted.size());
    Parsed first = sorted.get(0);
    out.add(new Outcome(Outcome.Kind.ACCEPTED, first));
    for (int i = 1; i < sorted.size(); i++) {
      Parsed p = sorted.get(i);
      if (p.contentHash.equals(first.contentHash)) {
        out.add(new Outcome(Outcome.Kind.DUPLICATE, p));
      } else {
        String id = p.key.substring(p.key.indexOf('\u0000') + 1);
        out.add(
            new Outcome(
                Outcome.Kind.REJECTED,
                Parsed.rejected(
                        p.table,
                        p.file,
                        p.line,
                        RejectReason.of(
                            RejectReason.ID_CONFLICT,
                            "id "
                                + SafeText.quote(id)
                                + " repeated with different content (kept the record at "
                                + first.file
                                + ":"
                                + first.line
                                + ")"),
                        SafeText.quote(String.valueOf(p.row), RAW_CHARS))
                    .withLeftOut(p.leftOut)));
      }
    }
    return out;
  }
}
