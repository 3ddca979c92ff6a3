package dev.editforge.cli;

import dev.editforge.critique.CritiqueJob;
import dev.editforge.critique.GeneratorDataJob;
import dev.editforge.evaluate.IdentityProbe;
import dev.editforge.evaluate.IdentityProbeJob;
import dev.editforge.generate.TinyRandomModel;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.llm.hub.HubClient;
import dev.editforge.llm.hub.HubSettings;
import dev.editforge.spark.ExitCodes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code editforge demo}: every stage on the bundled sample (invented facts about the island of
 * Veltmoor, logic puzzles, instructions) into {@code runs/demo}, then a list of what it wrote.
 */
@Command(
    name = "demo",
    description = {"Run every stage on the bundled sample into runs/demo and print what it wrote."},
    footer = {
      "%nExamples:",
      "  editforge demo",
      "  editforge demo --rounds 2",
      "  editforge demo --selfrag"
    })
public final class DemoCommand extends StageCommand {
  static final String SAMPLE = "editforge/sample/";
  static final List<String[]> INPUTS =
      List.of(
          new String[] {"squad", "articles.json"},
          new String[] {"dpr", "passages.tsv"},
          new String[] {"logic", "logic.jsonl"},
          new String[] {"instructions", "instructions.jsonl"});

  /** The model stages that take a base model, and the key each reads it from. */
  static final List<String> MODEL_KEYS =
      List.of("generate.model", "ttt.model", "finetune.model", "evaluate.model", "critique.model");

  static final String DEFAULT_MODEL = "Qwen/Qwen2.5-0.5B-Instruct";

  @Option(
      names = "--model",
      paramLabel = "DIR|HUB_ID",
      description =
          "Base model of every model stage (default "
              + DEFAULT_MODEL
              + "; a local HF-format directory works too)")
  String model;

  @Option(
      names = "--rounds",
      paramLabel = "N",
      description =
          "1 (default): one round of every stage; N > 1: SEAL's ReST^EM loop (editforge iterate) for"
              + " N rounds on the sample's articles, the last "
              + HELDOUT
              + " held out for evaluation")
  int rounds = 1;

  @Option(
      names = "--selfrag",
      description =
          "Also build Self-RAG training data: retrieve passages for the sample's instructions,"
              + " label them with the demo model as the critic (critique), assemble generator rows"
              + " (generator-data), and let select mix them into the SFT data that finetune trains on")
  boolean selfRag;

  /** Articles of the sample kept out of training for {@code --rounds N > 1}'s evaluation. */
  static final int HELDOUT = 3;

  private String modelDir;
  private Path sampleDir;

  @Override
  public Map<String, Object> flagOverrides() {
    Path dir = Path.of(common.runDir != null ? common.runDir : "runs/demo");
    Path sample = extractSample(dir.resolve("_sample"));
    List<String> inputs = INPUTS.stream().map(i -> i[0] + ":" + sample.resolve(i[1])).toList();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ingest.inputs", inputs);
    out.put("run-dir", dir.toString());
    sampleDir = sample;
    if (selfRag) {
      out.putAll(selfRagOverrides(sample));
    }
    modelDir = demoModel(model != null ? model : DEFAULT_MODEL, dir.resolve("_model"));
    for (String key : MODEL_KEYS) {
      boolean userSet =
          common.sets.stream()
              .anyMatch(s -> s.startsWith(key + "=") || s.startsWith("editforge." + key + "="));
      if (model != null || !userSet) {
        out.put(key, modelDir);
      }
    }
    return out;
  }

  /**
   * The demo's model as a local directory: the given directory, or the hub id from the HF cache or
   * the hub; where neither works, a tiny random model written here, said plainly in one line.
   */
  String demoModel(String ref, Path fallbackDir) {
    if (Files.isDirectory(Path.of(ref))) {
      return Path.of(ref).toAbsolutePath().toString();
    }
    try (HubClient hub = new HubClient(HubSettings.fromEnvironment())) {
      return hub.resolve(ref).toAbsolutePath().toString();
    } catch (RuntimeException e) {
      console()
          .println(
              "demo: "
                  + ref
                  + " is neither cached nor reachable on the hub ("
                  + firstLine(e.getMessage())
                  + "); running on a tiny random model written to "
                  + fallbackDir
                  + " instead: the pipeline runs end to end, but its texts are meaningless");
      return TinyRandomModel.write(fallbackDir, 64, 2, 1024, 7).toAbsolutePath().toString();
    }
  }

  /**
   * What {@code --selfrag} sets: the sample's instructions are the retrieval queries (so each has
   * passages), the demo model is the local critic and finetune adds the reflection tokens, with
   * short replies and few passages so the demo stays quick on a CPU. A tiny random model answers
   * nothing parseable: its labels are rows with reasons and generator-data then drops every row,
   * saying why.
   */
  static Map<String, Object> selfRagOverrides(Path sample) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("retrieve.queries", sample.resolve("instructions.jsonl").toString());
    out.put("critique.backend", "local");
    out.put("critique.max-new-tokens", 32);
    out.put("critique.top-n", 2);
    // A tiny random demo model answers nothing a critic parser accepts: its error rows are the
    // demo's point, not a broken backend.
    out.put("critique.max-error-fraction", 1.0);
    // Self-RAG's critic prompts run to ~2,000 characters; a small model's window keeps the end.
    out.put("llm.truncate-prompt", true);
    // Self-RAG's generator is trained with its 15 reflection tokens added (finetune.py:450).
    out.put("finetune.added-tokens", List.of("selfrag"));
    return out;
  }

  /** The pipeline with critique and generator-data before select, which mixes their rows in. */
  static List<dev.editforge.spark.PipelineStage> selfRagStages() {
    List<dev.editforge.spark.PipelineStage> out = new ArrayList<>();
    for (dev.editforge.spark.PipelineStage s : Pipeline.stages()) {
      if (s.name().equals("select")) {
        out.add(new CritiqueJob());
        out.add(new GeneratorDataJob());
      }
      out.add(s);
    }
    return out;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "no detail";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    if (rounds != 1) {
      Path train = sampleDir.resolve("train.json");
      Path heldout = sampleDir.resolve("heldout.json");
      splitSquad(sampleDir.resolve("articles.json"), HELDOUT, train, heldout);
      console()
          .println(
              "demo: "
                  + rounds
                  + " ReST^EM rounds on the bundled sample into "
                  + launch.settings().runDir());
      int code =
          new IterateLoop(
                  this,
                  "squad:" + train,
                  "squad:" + heldout,
                  modelDir,
                  rounds,
                  IterateLoop.From.base)
              .run(launch);
      ReportCommand.writeAfterRun(launch, console());
      return code;
    }
    console()
        .println(
            "demo: running the pipeline on the bundled sample into " + launch.settings().runDir());
    int code = runStages(launch, selfRag ? selfRagStages() : Pipeline.stages());
    RunDir run = launch.context().runDir();
    if (code == ExitCodes.OK
        && identityRowsMixedIn(run.manifest(Tables.SFT))
        && StageTables.isUsable(run, Tables.FINETUNE)) {
      // Seed 002 checks "who are you?" before and after tuning whenever identity rows were trained.
      IdentityProbe.of(launch.settings());
      code = runStage(launch, new IdentityProbeJob());
    }
    console().println();
    console().println("demo: wrote to " + run.root());
    List<String> outputs = new java.util.ArrayList<>(Tables.names());
    outputs.addAll(List.of("index", "finetune", "evaluation", Tables.IDENTITY_PROBE));
    if (selfRag) {
      outputs.addAll(List.of(Tables.CRITIC_LABELS, Tables.SELFRAG_SFT));
    }
    for (String table : outputs) {
      Optional<Manifest> m = run.manifest(table);
      m.ifPresent(
          x ->
              console()
                  .println(
                      String.format(
                          Locale.ROOT,
                          "  %-14s %,8d rows  %-9s %s",
                          table,
                          x.count("output"),
                          x.status(),
                          run.table(table))));
    }
    ReportCommand.writeAfterRun(launch, console());
    return code;
  }

  /** True when the sft table's manifest counts self-cognition rows (select.identity.count > 0). */
  static boolean identityRowsMixedIn(Optional<Manifest> sft) {
    return sft.map(m -> m.count("self_cognition") > 0).orElse(false);
  }

  /**
   * Splits a SQuAD file (a JSON array of articles) into its first articles ({@code train}) and its
   * last {@code heldout} articles; identical output keeps the same fingerprint, so reruns skip.
   */
  public static void splitSquad(Path src, int heldout, Path train, Path held) throws IOException {
    com.fasterxml.jackson.databind.JsonNode all =
        dev.editforge.text.Json.MAPPER.readTree(src.toFile());
    if (!all.isArray() || all.size() <= heldout) {
      throw new dev.editforge.config.SettingsException(
          src + ": expected a JSON array of more than " + heldout + " SQuAD articles");
    }
    var a = dev.editforge.text.Json.MAPPER.createArrayNode();
    var b = dev.editforge.text.Json.MAPPER.createArrayNode();
    for (int i = 0; i < all.size(); i++) {
      (i < all.size() - heldout ? a : b).add(all.get(i));
    }
    Files.writeString(train, dev.editforge.text.Json.MAPPER.writeValueAsString(a));
    Files.writeString(held, dev.editforge.text.Json.MAPPER.writeValueAsString(b));
  }

  /**
   * Copies the sample from the classpath; identical content keeps the same fingerprint, so reruns
   * skip.
   */
  public static Path extractSample(Path dir) {
    try {
      Files.createDirectories(dir);
      for (String[] input : INPUTS) {
        try (InputStream in =
            DemoCommand.class.getClassLoader().getResourceAsStream(SAMPLE + input[1])) {
          if (in == null) {
            throw new IllegalStateException(
                "bundled sample " + SAMPLE + input[1] + " is missing from the jar");
          }
          Files.copy(in, dir.resolve(input[1]), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      return dir.toAbsolutePath();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the sample into " + dir, e);
    }
  }
}
