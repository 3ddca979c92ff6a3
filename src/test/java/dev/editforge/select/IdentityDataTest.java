package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigReader;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IdentityDataTest {
  static final IdentityData.NameAuthor WHO =
      new IdentityData.NameAuthor("Forge", "锻造", "Acme Labs", "艾克米实验室");

  @Test
  void builtInSetIsBilingualAndUsesBothPlaceholders() {
    long en = IdentityData.TEMPLATES.stream().filter(p -> p.language().equals("en")).count();
    long zh = IdentityData.TEMPLATES.stream().filter(p -> p.language().equals("zh")).count();
    assertTrue(en >= 20 && zh >= 20, en + " en, " + zh + " zh");
    for (IdentityData.Pair p : IdentityData.TEMPLATES) {
      assertTrue(p.answer().contains("{NAME}") || p.answer().contains("{AUTHOR}"), p.answer());
    }
    assertEquals(
        IdentityData.TEMPLATES.size(),
        new HashSet<>(IdentityData.TEMPLATES.stream().map(IdentityData.Pair::question).toList())
            .size());
  }

  @Test
  void fillsEachLanguageWithItsOwnNames() {
    List<SftRow> rows = IdentityData.rows(WHO, List.of("en", "zh"));
    assertEquals(IdentityData.TEMPLATES.size(), rows.size());
    for (SftRow r : rows) {
      assertFalse(
          r.completion().contains("{NAME}") || r.completion().contains("{AUTHOR}"), r.completion());
      assertEquals(SftSource.SELF_COGNITION, r.source());
      assertNull(r.score());
      boolean chinese =
          r.prompt()
              .codePoints()
              .anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN);
      if (chinese) {
        assertFalse(
            r.completion().contains("Forge") || r.completion().contains("Acme"), r.completion());
      } else {
        assertFalse(
            r.completion().contains("锻造") || r.completion().contains("艾克米"), r.completion());
      }
    }
    assertEquals(
        "I was made by Acme Labs. They trained me, Forge, to be a helpful assistant.",
        rows.stream()
            .filter(r -> r.prompt().equals("Who made you?"))
            .findFirst()
            .orElseThrow()
            .completion());
    assertEquals(
        "我的名字是锻造，由艾克米实验室开发。",
        rows.stream()
            .filter(r -> r.prompt().equals("你叫什么名字？"))
            .findFirst()
            .orElseThrow()
            .completion());
    // One pass: a name that contains a placeholder stays literal.
    assertEquals(
        "I am {AUTHOR}x by Y", IdentityData.fill("I am {NAME} by {AUTHOR}", "{AUTHOR}x", "Y"));
  }

  @Test
  void sampleIsSeededAndBalancedWhenResampling() {
    int size = IdentityData.templates(List.of("en")).size();
    List<SftRow> a = IdentityData.sample(WHO, List.of("en"), 2 * size + 3, 7);
    assertEquals(a, IdentityData.sample(WHO, List.of("en"), 2 * size + 3, 7));
    assertNotEquals(a, IdentityData.sample(WHO, List.of("en"), 2 * size + 3, 8));
    Map<String, Integer> counts = new HashMap<>();
    for (SftRow r : a) {
      counts.merge(r.prompt(), 1, Integer::sum);
    }
    assertEquals(size, counts.size());
    assertTrue(counts.values().stream().allMatch(c -> c == 2 || c == 3), counts.toString());
    List<SftRow> few = IdentityData.sample(WHO, List.of("en", "zh"), 10, 1);
    assertEquals(10, new HashSet<>(few).size()); // below the set size: no repeats
    assertEquals(0, IdentityData.sample(WHO, List.of("zh"), 0, 1).size());
  }

  @Test
  void settingsDefaultChineseFormsToEnglish() {
    String conf =
        "count = 5, seed = 1, languages = [en, zh], model-name = Forge, model-author = Acme, model-name-zh = \"\", model-author-zh = 艾克米";
    IdentityData.Settings s =
        IdentityData.Settings.from(
            new ConfigReader(ConfigFactory.parseString(conf), "editforge.select.identity"));
    assertEquals(new IdentityData.NameAuthor("Forge", "Forge", "Acme", "艾克米"), s.who());
    assertEquals(5, IdentityData.sample(s).size());
    assertThrows(
        RuntimeException.class,
        () ->
            IdentityData.Settings.from(
                new ConfigReader(
                    ConfigFactory.parseString(
                        "count = 5, seed = 1, languages = [fr], model-name = a, model-author = b"),
                    "editforge.select.identity")));
    IdentityData.Settings off =
        IdentityData.Settings.from(
            new ConfigReader(
                ConfigFactory.parseString("count = 0, seed = 1, languages = [en]"),
                "editforge.select.identity"));
    assertEquals(List.of(), IdentityData.sample(off));
  }
}
