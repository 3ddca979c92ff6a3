package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class TttEditTest {
  @Test
  void aPassageOnlyEditTrainsOnThePassageAloneAndAnEditGetsItAppended() {
    String title = "Topic";
    String context = " The passage.\n";
    assertEquals(
        List.of("Topic\nThe passage."),
        TttEdit.passageOnly("p", "A").trainSequences(title, context, true));
    assertEquals(
        List.of("Topic\nOne.", "Topic\nThe passage."),
        new TttEdit("e", "A", "One.").trainSequences(title, context, true));
  }
}
