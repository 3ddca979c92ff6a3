package dev.editforge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  private static EditforgeSettings settings(Path conf, String... sets) {
    return EditforgeSettings.from(ConfigLoader.load(conf, List.of(sets)));
  }

  @Test
  void embeddedLocalConfOverlaysReference() {
    EditforgeSettings s = settings(null);
    assertEquals("local[*]", s.spark().master(), "conf/local.conf sets the master");
    assertEquals(0.1, s.ingest().maxRejectedFraction());
    assertEquals(1L << 20, s.ingest().maxRecordBytes());
  }

  @Test
  void setBeatsConfFileWhichBeatsReference() throws Exception {
    Path conf =
        Files.writeString(
            dir.resolve("my.conf"),
            "editforge { ingest { max-rejected-fraction = 0.3, min-partitions = 5 }, spark.master = \"local[1]\" }");
    EditforgeSettings fromFile = settings(conf);
    assertEquals(0.3, fromFile.ingest().maxRejectedFraction());
    assertEquals("local[1]", fromFile.spark().master());
    assertEquals(
        1L << 20, fromFile.ingest().maxRecordBytes(), "untouched keys keep reference defaults");
    EditforgeSettings withSet =
        settings(
            conf, "ingest.max-rejected-fraction=0.05", "editforge.ingest.max-record-bytes=2 MiB");
    assertEquals(0.05, withSet.ingest().maxRejectedFraction());
    assertEquals(2L << 20, withSet.ingest().maxRecordBytes());
    assertEquals(5, withSet.ingest().minPartitions());
  }

  @Test
  void setKeepsListsAndPathsWithColons() {
    EditforgeSettings s =
        settings(
            null,
            "ingest.inputs=[\"squad:a.json\", \"dpr:hdfs://nn/x.tsv\"]",
            "run-dir=s3a://bucket/runs/r1");
    assertEquals(List.of("squad:a.json", "dpr:hdfs://nn/x.tsv"), s.ingest().inputs());
    assertEquals("s3a://bucket/runs/r1", s.runDir());
    assertEquals(
        "hdfs://nn/runs/r2",
        settings(null, "run-dir=\"hdfs://nn/runs/r2\"").runDir(),
        "quotes are HOCON's");
  }

  @Test
  void unknownKeyNamesItAndSuggestsTheClosest() {
    SettingsException e =
        assertThrows(
            SettingsException.class, () -> settings(null, "ingest.max-rejected-fractoin=0.2"));
    assertTrue(e.getMessage().contains("editforge.ingest.max-rejected-fractoin"), e.getMessage());
    assertTrue(
        e.getMessage().contains("did you mean editforge.ingest.max-rejected-fraction"),
        e.getMessage());
    SettingsException section =
        assertThrows(SettingsException.class, () -> settings(null, "nosuchstage.x=1"));
    assertTrue(
        section.getMessage().contains("unknown setting editforge.nosuchstage"),
        section.getMessage());
  }

  @Test
  void openSectionsAcceptAnyName() {
    EditforgeSettings s = settings(null, "spark.conf.\"spark.executor.memory\"=8g");
    assertEquals("8g", s.spark().conf().get("spark.executor.memory"));
  }

  @Test
  void wrongTypeAndOutOfRangeNameKeyValueAndAllowed() {
    SettingsException type =
        assertThrows(
            SettingsException.class, () -> settings(null, "ingest.max-rejected-fraction=lots"));
    assertEquals(
        "invalid setting editforge.ingest.max-rejected-fraction = \"lots\": must be a number in [0.0, 1.0]",
        type.getMessage());
    SettingsException range =
        assertThrows(
            SettingsException.class, () -> settings(null, "ingest.max-rejected-fraction=1.5"));
    assertTrue(
        range.getMessage().contains("= 1.5: must be a number in [0.0, 1.0]"), range.getMessage());
    SettingsException size =
        assertThrows(SettingsException.class, () -> settings(null, "ingest.max-record-bytes=huge"));
    assertTrue(size.getMessage().contains("editforge.ingest.max-record-bytes"), size.getMessage());
    SettingsException dur =
        assertThrows(
            SettingsException.class, () -> settings(null, "spark.progress-interval=often"));
    assertTrue(dur.getMessage().contains("duration"), dur.getMessage());
  }

  @Test
  void missingConfFileIsASettingsError() {
    SettingsException e =
        assertThrows(SettingsException.class, () -> settings(dir.resolve("absent.conf")));
    assertTrue(e.getMessage().contains("absent.conf"), e.getMessage());
  }

  @Test
  void anIncludeThatDoesNotExistIsASettingsErrorNamingIt() throws Exception {
    Files.writeString(dir.resolve("base.conf"), "editforge.ingest.min-partitions = 7");
    Path good =
        Files.writeString(
            dir.resolve("good.conf"),
            "include \"base.conf\"\neditforge.ingest.max-rejected-fraction = 0.2");
    assertEquals(7, settings(good).ingest().minPartitions(), "a present include is read");
    Path bad =
        Files.writeString(
            dir.resolve("bad.conf"),
            "include \"bsae.conf\"\neditforge.ingest.max-rejected-fraction = 0.2");
    SettingsException e = assertThrows(SettingsException.class, () -> settings(bad));
    assertTrue(e.getMessage().contains("bad.conf"), e.getMessage());
    assertTrue(e.getMessage().contains("\"bsae.conf\""), e.getMessage());
    Path nested =
        Files.writeString(
            dir.resolve("nested.conf"), "include \"good.conf\"\ninclude \"gone.conf\"");
    SettingsException n = assertThrows(SettingsException.class, () -> settings(nested));
    assertTrue(n.getMessage().contains("\"gone.conf\""), n.getMessage());
    Path explicit =
        Files.writeString(
            dir.resolve("explicit.conf"),
            "include file(\"" + dir.resolve("nope.conf") + "\")\ninclude classpath(\"nope.conf\")");
    SettingsException f = assertThrows(SettingsException.class, () -> settings(explicit));
    assertTrue(f.getMessage().contains("nope.conf"), f.getMessage());
  }

  @Test
  void secretsAreRedacted() {
    Config c =
        ConfigLoader.load(null, List.of())
            .withValue(
                "editforge.remote.api-token",
                com.typesafe.config.ConfigValueFactory.fromAnyRef("sk-very-secret"));
    String rendered = ConfigRedactor.render(c);
    assertFalse(rendered.contains("sk-very-secret"), rendered);
    assertTrue(rendered.contains("***"));
    assertTrue(
        ConfigRedactor.flat(c).containsKey("editforge.remote.api-key-env"),
        "-env keys name a variable, not a secret");
    assertEquals("OPENAI_API_KEY", ConfigRedactor.flat(c).get("editforge.remote.api-key-env"));
  }
}
