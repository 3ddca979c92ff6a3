package dev.editforge.config;

import com.typesafe.config.Config;
import dev.editforge.judge.JudgeSettings;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.remote.RemoteSettings;

/**
 * All of editforge's typed settings, built and validated once at start-up so a bad value fails
 * before any work starts, whichever stage it belongs to. {@code raw} keeps the resolved config for
 * hashing and the manifests.
 */
public record EditforgeSettings(
    Config raw,
    String runDir,
    String codeVersion,
    SparkSettings spark,
    IngestSettings ingest,
    RemoteSettings remote,
    GenerateSettings generate,
    SelfEditSettings selfEdit,
    ReasoningSettings reasoning,
    JudgeSettings judge,
    SelectSettings select,
    EmbedSettings embed,
    IndexSettings index,
    RetrieveSettings retrieve,
    FinetuneSettings finetune,
    EvaluateSettings evaluate,
    IterateSettings iterate,
    LlmSettings llm,
    TttSettings ttt) {

  public static EditforgeSettings from(Config config) {
    ConfigReader root = new ConfigReader(config.getConfig("editforge"), "editforge");
    return new EditforgeSettings(
        config.withOnlyPath("editforge"),
        root.nonEmpty("run-dir"),
        BuildInfo.version(),
        SparkSettings.from(root.section("spark")),
        IngestSettings.from(root.section("ingest")),
        RuntimeSettings.remote(root.section("remote")),
        GenerateSettings.from(root.section("generate")),
        SelfEditSettings.from(root.section("generate").section("self-edit")),
        ReasoningSettings.from(root.section("generate").section("reasoning")),
        RuntimeSettings.judge(root.section("judge")),
        SelectSettings.from(root.section("select")),
        EmbedSettings.from(root.section("embed")),
        IndexSettings.from(root.section("index")),
        RetrieveSettings.from(root.section("retrieve")),
        FinetuneSettings.from(root.section("finetune")),
        EvaluateSettings.from(root.section("evaluate")),
        IterateSettings.from(root.section("iterate")),
        RuntimeSettings.llm(root.section("llm")),
        TttSettings.from(root.section("ttt")));
  }

  /** The config section of one stage, for its config hash. */
  public Config section(String name) {
    String path = "editforge." + name;
    return raw.hasPath(path) ? raw.getConfig(path) : com.typesafe.config.ConfigFactory.empty();
  }
}
