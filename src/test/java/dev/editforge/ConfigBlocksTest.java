package dev.editforge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.ReasoningSettings;
import dev.editforge.config.SelectSettings;
import dev.editforge.config.SelfEditSettings;
import dev.editforge.judge.JudgeSettings;
import dev.editforge.select.IdentityData;
import dev.editforge.select.SftExport;
import dev.editforge.select.SftMixer;
import dev.editforge.text.AnswerVoting;
import java.util.List;
import org.junit.jupiter.api.Test;

/** reference.conf's generate/judge/select blocks parse into SEAL's documented defaults. */
class ConfigBlocksTest {
  static final Config CONF = ConfigFactory.parseResources("reference.conf").resolve();

  static ConfigReader at(String path) {
    return new ConfigReader(CONF.getConfig(path), path);
  }

  @Test
  void blocksGiveSealsDefaults() {
    SelfEditSettings se = SelfEditSettings.from(at("editforge.generate.self-edit"));
    assertEquals("implications", se.promptKey());
    assertEquals(5, se.sampling().n());
    assertEquals(1.0, se.sampling().temperature());
    assertEquals(0.95, se.sampling().topP());

    ReasoningSettings rs = ReasoningSettings.from(at("editforge.generate.reasoning"));
    assertEquals(AnswerVoting.DEFAULT_PATTERNS, rs.answerPatterns());
    assertEquals("explain-en", rs.teacherPrompt());

    JudgeSettings js = dev.editforge.config.RuntimeSettings.judge(at("editforge.judge"));
    assertEquals(JudgeSettings.defaults(), js);

    assertEquals(SelectSettings.seal(), SelectSettings.from(at("editforge.select")));
    IdentityData.Settings id = IdentityData.Settings.from(at("editforge.select.identity"));
    assertEquals(0, id.count());
    assertNull(id.who());
    assertEquals(
        new SftMixer.Settings(0.0, false, 42), SftMixer.Settings.from(at("editforge.select.mix")));
    assertEquals(
        new SftExport.Settings(
            List.of(SftExport.Format.JSONL, SftExport.Format.ALPACA, SftExport.Format.MESSAGES),
            "sft",
            true),
        SftExport.Settings.from(at("editforge.select.export")));
  }
}
