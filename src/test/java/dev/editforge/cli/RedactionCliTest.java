package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.config.ConfigRedactor;
import dev.editforge.text.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 17.1 / 15.4 end to end: what a run writes and prints hides secrets and only secrets. */
class RedactionCliTest {
  static final String AZURE_KEY = "AzureAccountKey+SECRET/0123456789==";
  static final String HF_TOKEN = "hf_TokenFromTheEnvironment42";
  static final String AZURE_SETTING =
      "editforge.spark.conf.\"spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net\"";

  @TempDir Path dir;

  @Test
  void storageKeysAndEnvironmentSecretsReachNoFileAndNoStreamWhileCountsStayVisible()
      throws Exception {
    Path run = dir.resolve("run");
    ConsoleCapture c;
    try (AutoCloseable env = ConfigRedactor.useEnvironmentForTests(Map.of("HF_TOKEN", HF_TOKEN))) {
      c =
          ConsoleCapture.of(
              "debug",
              dir,
              "ingest",
              "--input",
              "squad:" + ConsoleCapture.sampleArticles(dir),
              "--run-dir",
              run.toString(),
              "--set",
              "spark.conf.\"spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net\"="
                  + AZURE_KEY,
              // A secret under an innocent key is found by its value.
              "--set",
              "spark.conf.\"spark.executorEnv.EXTRA\"=" + HF_TOKEN,
              "--set",
              "generate.self-edit.max-new-tokens=777");
    }
    assertEquals(0, c.run().exitCode(), c.all());
    assertTrue(c.log().contains("max-new-tokens=777"), "the DEBUG log has the full config");
    for (String secret : List.of(AZURE_KEY, HF_TOKEN)) {
      assertFalse(c.all().contains(secret), "printed: " + secret);
      try (Stream<Path> files = Files.walk(run)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
          assertFalse(bytes.contains(secret), secret + " written to " + f);
        }
      }
    }
    Path record;
    try (Stream<Path> files = Files.list(run.resolve("_runs"))) {
      record =
          files
              .filter(f -> f.getFileName().toString().endsWith("-ingest.json"))
              .findFirst()
              .orElseThrow();
    }
    JsonNode config = Json.COMPACT.readTree(record.toFile()).path("config");
    assertEquals(777, config.path("editforge.generate.self-edit.max-new-tokens").asInt());
    assertEquals(16384, config.path("editforge.embed.max-batch-tokens").asInt());
    assertEquals(ConfigRedactor.MASK, config.path(AZURE_SETTING).asText(), config.toString());
    assertEquals(
        ConfigRedactor.MASK,
        config.path("editforge.spark.conf.\"spark.executorEnv.EXTRA\"").asText(),
        config.toString());
  }
}
