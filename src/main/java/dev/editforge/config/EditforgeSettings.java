package dev.editforge.config;

import com.typesafe.config.Config;
import dev.editforge.generate.ReasoningSettings;
import dev.editforge.generate.SelfEditSettings;
import dev.editforge.judge.JudgeSettings;
import dev.editforge.llm.remote.RemoteSettings;
import dev.editforge.select.SelectSettings;
import dev.editforge.ttt.TttSettings;

/**
 * All of editforge's typed settings, built and validated once at start-up so a bad value fails
 * before any work starts, whichever stage it belongs to. {@code raw} keeps the resolved config
 * for hashing and the manifests.
 */
public record EditforgeSettings(
    Config raw,
    String runDir,
    String codeVersion,
    SparkSettings spark,
    IngestSettings ingest,
    RemoteSettings remote,
    SelfEditSettings selfEdit,
    ReasoningSettings reasoning,
    JudgeSettings judge,
    TttSettings ttt,
    SelectSettings select) {

  public static EditforgeSettings from(Config config) {
    ConfigReader root = new ConfigReader(config.getConfig("editforge"), "editforge");
    return new EditforgeSettings(
        config.withOnlyPath("editforge"),
        root.nonEmpty("run-dir"),
        BuildInfo.version(),
        SparkSettings.from(root.section("spark")),
        IngestSettings.from(root.section("ingest")),
        RemoteSettings.from(root.section("remote")),
        SelfEditSettings.from(root.section("generate").section("self-edit")),
        ReasoningSettings.from(root.section("generate").section("reasoning")),
        JudgeSettings.from(root.section("judge")),
        TttSettings.from(root.section("ttt")),
        SelectSettings.from(root.section("select")));
  }

  /** The config section of one stage, for its config hash. */
  public Config section(String name) {
    String path = "editforge." + name;
    return raw.hasPath(path) ? raw.getConfig(path) : com.typesafe.config.ConfigFactory.empty();
  }
}
