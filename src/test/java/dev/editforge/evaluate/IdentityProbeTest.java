package dev.editforge.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.generate.TinyRandomModel;
import dev.editforge.io.Manifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seed 002's self-cognition probe: the name/author check, the table, and a run on tiny models. */
class IdentityProbeTest {
  static final IdentityProbe PROBE =
      new IdentityProbe(
          List.of("Who are you?", "你是谁？"),
          16,
          "model",
          List.of("Veltbot", "维尔特"),
          List.of("Veltmoor Labs"));

  @Test
  void nameAndAuthorAreFoundInEitherFormAndAnyCase() {
    assertTrue(IdentityProbe.mentions("I am VELTBOT, made by veltmoor labs.", PROBE.names()));
    assertTrue(IdentityProbe.mentions("我是维尔特。", PROBE.names()));
    assertEquals(false, IdentityProbe.mentions("I am Qwen.", PROBE.authors()));
    assertNull(IdentityProbe.mentions("anything", List.of()), "no name configured: n/a");
  }

  @Test
  void tableShowsBothAnswersSideBySide() {
    String t =
        PROBE.table(
            "base",
            "tuned",
            List.of("I am Qwen, made by Alibaba Cloud.", "我是通义千问。"),
            List.of("I am Veltbot, made by Veltmoor Labs.", "我是维尔特。"));
    assertTrue(
        t.contains(
            String.format(
                "  %-46s | %s%n",
                "I am Qwen, made by Alibaba Cloud.", "I am Veltbot, made by Veltmoor Labs.")),
        t);
    assertTrue(
        t.contains(String.format("  %-46s | %s%n", "name no, author no", "name yes, author yes")),
        t);
    assertTrue(
        t.endsWith("name appears: before 0/2, after 2/2; author appears: before 0/2, after 1/2"),
        t);
  }

  @Test
  void probePrintsBeforeAndAfterAnswersOfTinyModels(@TempDir Path tmp) throws Exception {
    Path base = TinyRandomModel.write(tmp.resolve("base"), 64, 2, 1024, 7);
    Path tuned = TinyRandomModel.write(tmp.resolve("tuned"), 64, 2, 1024, 8);
    Path run = tmp.resolve("run");
    CliRun r =
        CliRun.of(
            "evaluate",
            "--probe",
            "identity",
            "--run-dir",
            run.toString(),
            "--model",
            base.toString(),
            "--tuned",
            tuned.toString(),
            "--set",
            "select.identity.model-name=Veltbot",
            "--set",
            "select.identity.model-author=Veltmoor Labs",
            "--set",
            "evaluate.identity-probe.max-new-tokens=6");
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(r.out().contains("before (base)") && r.out().contains("after (tuned)"), r.out());
    for (String q : List.of("Who are you?", "Who developed you?", "你是谁？", "你是由谁开发的？")) {
      assertTrue(r.out().contains("Q: " + q), r.out());
    }
    assertTrue(r.out().contains("name Veltbot, author Veltmoor Labs"), r.out());
    List<Row> rows =
        TestSpark.session()
            .read()
            .parquet(run.resolve("identity_probe").toString())
            .collectAsList();
    assertEquals(4, rows.size());
    Manifest m = Manifest.parse(Files.readString(run.resolve("identity_probe/_manifest.json")));
    assertEquals(4, m.count("output"));
    // Different random weights answer differently: the two columns are two models.
    assertTrue(
        rows.stream().anyMatch(x -> !x.getString(1).equals(x.getString(2))), rows.toString());
  }

  @Test
  void anUnknownProbeIsExit2(@TempDir Path tmp) {
    CliRun r =
        CliRun.of("evaluate", "--probe", "whoami", "--run-dir", tmp.resolve("run").toString());
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue((r.out() + r.err()).contains("editforge.evaluate.probe"), r.toString());
  }
}
