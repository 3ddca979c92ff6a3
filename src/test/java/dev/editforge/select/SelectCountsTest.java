package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.editforge.io.Manifest;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.llm.ChatMessage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The select counts without Spark: every offered row is accepted, rejected or a duplicate. */
class SelectCountsTest {
  static Map<String, Long> editCounts() {
    // 10 edits of 3 articles: 3 kept, 1 unscored, 1 blank, 1 below gain, 1 below accuracy, 1
    // duplicate, 2 beyond k.
    Map<String, Long> d = new LinkedHashMap<>();
    d.put("articles", 3L);
    d.put("self_edits", 10L);
    d.put("unscored", 1L);
    d.put("blank", 1L);
    d.put("below_gain", 1L);
    d.put("below_accuracy", 1L);
    d.put("duplicates", 1L);
    d.put("beyond_k", 2L);
    return d;
  }

  @Test
  void everyOfferedRowIsCountedOnce() {
    Map<String, Long> detail = editCounts();
    List<SftRow> reasoning = SftMixerTest.rows(SftSource.REASONING, 2);
    detail.put("reasoning_traces", 5L);
    detail.put("reasoning_dropped", 3L);
    SelectSources.Instructions instructions =
        SelectSources.instructions(
            List.of(
                List.of(ChatMessage.user("u1"), ChatMessage.assistant("a1")),
                List.of(ChatMessage.user("u2"), ChatMessage.assistant("a2")),
                List.of(ChatMessage.user("u3"), ChatMessage.assistant("a3")),
                List.of(ChatMessage.assistant("no user"))));
    assertEquals(3, instructions.rows().size());
    assertEquals(1, instructions.invalid());
    List<SftRow> identity = SftMixerTest.rows(SftSource.SELF_COGNITION, 2);
    SftMixer.Mix mix =
        SftMixer.mix(
            SftMixerTest.rows(SftSource.SELF_EDIT, 3),
            reasoning,
            identity,
            instructions.rows(),
            new SftMixer.Settings(0.2, false, 1));

    Manifest m = Manifest.start("select", "sft", "c", "v", "f");
    SelectCounts.fill(m, detail, identity.size(), instructions, mix);
    assertEquals(10 + 5 + 2 + 4, m.count("input"));
    assertEquals(mix.rows().size(), m.count("accepted"));
    assertEquals(m.count("accepted"), m.count("output"));
    assertEquals(1, m.count("duplicates"));
    assertEquals(
        m.count("input"), m.count("accepted") + m.count("rejected") + m.count("duplicates"));
    assertEquals(2, m.count("instruction"));
    assertEquals(1, m.count("instructions_not_drawn"));
    assertEquals(1, m.count("instructions_invalid"));
    assertEquals(2, m.count("identity_drawn"));
    assertEquals(
        List.of(
            "input",
            "accepted",
            "rejected",
            "duplicates",
            "output",
            "self_edit",
            "reasoning",
            "self_cognition",
            "instruction",
            "articles",
            "self_edits",
            "unscored",
            "blank",
            "below_gain",
            "below_accuracy",
            "beyond_k",
            "reasoning_traces",
            "reasoning_dropped",
            "identity_drawn",
            "instructions_available",
            "instructions_invalid",
            "instructions_wanted",
            "instructions_not_drawn"),
        List.copyOf(m.counts().keySet()));
  }

  @Test
  void instructionsNotReadAreNotOffered() {
    SftMixer.Mix mix =
        SftMixer.mix(
            SftMixerTest.rows(SftSource.SELF_EDIT, 3),
            List.of(),
            List.of(),
            List.of(),
            new SftMixer.Settings(0, false, 1));
    Manifest m = Manifest.start("select", "sft", "c", "v", "f");
    SelectCounts.fill(m, editCounts(), 0, SelectSources.Instructions.NONE, mix);
    assertEquals(10, m.count("input"));
    assertEquals(3, m.count("accepted"));
    assertEquals(6, m.count("rejected"));
    assertEquals(0, m.count("instructions_available"));
  }
}
