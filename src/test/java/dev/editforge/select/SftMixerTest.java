package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.llm.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SftMixerTest {

  static List<SftRow> rows(SftSource s, int n) {
    List<SftRow> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(SftRow.exchange(s.wireName() + " prompt " + i, "c" + i, s, s.wireName() + i, null));
    }
    return out;
  }

  @Test
  void instructionRatioIsTheShareOfTheFinalMix() {
    var m =
        SftMixer.mix(
            rows(SftSource.SELF_EDIT, 50),
            rows(SftSource.REASONING, 20),
            rows(SftSource.SELF_COGNITION, 10),
            rows(SftSource.INSTRUCTION, 1000),
            new SftMixer.Settings(0.2, false, 3));
    // 80 other rows; 20% instruction -> 20 instruction rows of 100.
    assertEquals(20, m.wanted());
    assertEquals(100, m.rows().size());
    assertEquals(20, (int) m.used().get(SftSource.INSTRUCTION));
    assertEquals(1000, (int) m.available().get(SftSource.INSTRUCTION));
    assertEquals(50, (int) m.used().get(SftSource.SELF_EDIT));
    assertEquals(
        "mix rows=100 self_edit=50 reasoning=20 self_cognition=10 instruction=20/1000 (wanted 20)",
        m.summary());
    // Order by source; the drawn instruction rows keep their input order.
    assertEquals(SftSource.SELF_EDIT, m.rows().get(0).source());
    assertEquals(SftSource.INSTRUCTION, m.rows().get(99).source());
    List<SftRow> drawn = m.rows().subList(80, 100);
    for (int i = 1; i < drawn.size(); i++) {
      int prev = Integer.parseInt(drawn.get(i - 1).originId().substring("instruction".length()));
      int cur = Integer.parseInt(drawn.get(i).originId().substring("instruction".length()));
      assertEquals(true, prev < cur);
    }
  }

  @Test
  void shortfallUsesEverythingAndZeroRatioNone() {
    var m =
        SftMixer.mix(
            rows(SftSource.SELF_EDIT, 10),
            List.of(),
            List.of(),
            rows(SftSource.INSTRUCTION, 3),
            new SftMixer.Settings(0.5, false, 0));
    assertEquals(10, m.wanted());
    assertEquals(3, (int) m.used().get(SftSource.INSTRUCTION));
    var none =
        SftMixer.mix(
            rows(SftSource.SELF_EDIT, 10),
            List.of(),
            List.of(),
            rows(SftSource.INSTRUCTION, 3),
            new SftMixer.Settings(0.0, false, 0));
    assertEquals(10, none.rows().size());
  }

  @Test
  void shuffleIsSeededAndKeepsEveryRow() {
    var s1 =
        SftMixer.mix(
            rows(SftSource.SELF_EDIT, 30),
            rows(SftSource.REASONING, 30),
            List.of(),
            List.of(),
            new SftMixer.Settings(0, true, 5));
    var s2 =
        SftMixer.mix(
            rows(SftSource.SELF_EDIT, 30),
            rows(SftSource.REASONING, 30),
            List.of(),
            List.of(),
            new SftMixer.Settings(0, true, 5));
    var ordered =
        SftMixer.mix(
            rows(SftSource.SELF_EDIT, 30),
            rows(SftSource.REASONING, 30),
            List.of(),
            List.of(),
            new SftMixer.Settings(0, false, 5));
    assertEquals(s1.rows(), s2.rows());
    assertNotEquals(ordered.rows(), s1.rows());
    assertEquals(new java.util.HashSet<>(ordered.rows()), new java.util.HashSet<>(s1.rows()));
  }

  @Test
  void rowsOfTheWrongSourceAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SftMixer.mix(
                rows(SftSource.REASONING, 1),
                List.of(),
                List.of(),
                List.of(),
                new SftMixer.Settings(0, false, 0)));
    assertThrows(IllegalArgumentException.class, () -> new SftMixer.Settings(1.0, false, 0));
  }

  @Test
  void instructionRecordsOfBothShapes() {
    SftRow alpaca = InstructionData.fromAlpaca("Translate to French.", "cheese", "fromage", null);
    assertEquals("Translate to French.\ncheese", alpaca.prompt());
    assertEquals("fromage", alpaca.completion());
    assertEquals(SftSource.INSTRUCTION, alpaca.source());
    assertEquals(
        List.of(ChatMessage.user("Translate to French.\ncheese"), ChatMessage.assistant("fromage")),
        alpaca.messages());
    assertEquals("Say hi.", InstructionData.fromAlpaca("Say hi.", "", "hi", "Be brief.").prompt());
    assertEquals(
        "Be brief.", InstructionData.fromAlpaca("Say hi.", "", "hi", "Be brief.").system());

    SftRow chat =
        InstructionData.fromMessages(
            List.of(
                ChatMessage.system("S"),
                ChatMessage.user("u1"),
                ChatMessage.assistant("a1"),
                ChatMessage.user("u2"),
                ChatMessage.assistant("a2")));
    assertEquals("u2", chat.prompt());
    assertEquals("a2", chat.completion());
    assertEquals(5, chat.messages().size());
    assertThrows(
        IllegalArgumentException.class,
        () -> InstructionData.fromMessages(List.of(ChatMessage.user("u"), ChatMessage.user("u"))));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            InstructionData.fromMessages(
                List.of(ChatMessage.assistant("a"), ChatMessage.user("u"))));
  }
}
