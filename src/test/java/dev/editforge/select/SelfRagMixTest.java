package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Self-RAG generator rows join the SFT mix whole and count towards the instruction ratio's base.
 */
class SelfRagMixTest {
  static SftRow row(SftSource s, String id) {
    return SftRow.exchange("p " + id, "c " + id, s, id, null);
  }

  @Test
  void selfRagRowsJoinWholeAndWidenTheInstructionShare() {
    List<SftRow> edits = List.of(row(SftSource.SELF_EDIT, "e1"));
    List<SftRow> selfRag =
        List.of(
            row(SftSource.SELFRAG, "s1"),
            row(SftSource.SELFRAG, "s2"),
            row(SftSource.SELFRAG, "s3"));
    List<SftRow> instructions =
        List.of(
            row(SftSource.INSTRUCTION, "i1"),
            row(SftSource.INSTRUCTION, "i2"),
            row(SftSource.INSTRUCTION, "i3"),
            row(SftSource.INSTRUCTION, "i4"),
            row(SftSource.INSTRUCTION, "i5"));
    SftMixer.Mix mix =
        SftMixer.mix(
            edits,
            List.of(),
            List.of(),
            instructions,
            selfRag,
            new SftMixer.Settings(0.5, false, 1));
    // base = 1 self-edit + 3 selfrag rows; ratio 0.5 wants as many instruction rows
    assertEquals(4, mix.wanted());
    assertEquals(8, mix.rows().size());
    assertEquals(3, mix.used().get(SftSource.SELFRAG));
    assertEquals(selfRag, mix.rows().subList(1, 4));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SftMixer.mix(
                edits, List.of(), List.of(), List.of(), edits, new SftMixer.Settings(0, false, 1)));
  }
}
