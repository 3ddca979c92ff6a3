package dev.editforge.critique;

import dev.editforge.config.CritiqueSettings;
import dev.editforge.config.GeneratorDataSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.io.SftTable;
import dev.editforge.io.Tables;
import dev.editforge.llm.ChatMessage;
import dev.editforge.selfrag.CriticType;
import dev.editforge.selfrag.GeneratorAssembly;
import dev.editforge.selfrag.Sentences;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Row;

/**
 * {@code editforge generator-data}: Self-RAG's generator rows ({@link GeneratorAssembly}) from the
 * critic labels, into the {@code selfrag_sft} table ({@code sft} rows with source {@code selfrag}:
 * prompt = finetune.py's {@code "### Instruction:\n{instruction}\n\n### Response:\n"}, completion =
 * the text with reflection tokens), which {@code select} mixes into {@code sft}, and {@code
 * <run-dir>/exports/selfrag_train.json} + {@code .jsonl} in Self-RAG's training format ({@code
 * instruction, output, input, id, dataset_name}). A row that cannot be assembled is counted by
 * reason (the manifest's {@code dropped_*} counts), never silently lost.
 */
public final class GeneratorDataJob implements PipelineStage {
  public static final String STAGE = "generator-data";
  static final String JSON = "selfrag_train.json";
  static final String JSONL = "selfrag_train.jsonl";

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public List<String> requires() {
    return List.of(CritiqueTables.CRITIC_LABELS, Tables.INSTRUCTIONS);
  }

  @Override
  public StagePlan plan(StageContext ctx) {
    GeneratorDataSettings gs = GeneratorDataSettings.from(ctx.settings());
    CritiqueSettings cs = CritiqueSettings.from(ctx.settings());
    String configHash =
        Fingerprints.configHash(
            ctx.settings()
                .section(STAGE)
                .withFallback(ctx.settings().section("critique").withOnlyPath("top-n")));
    RunDir run = ctx.runDir();
    List<String> inputs =
        List.of(
            Fingerprints.ofTable(run, CritiqueTables.CRITIC_LABELS),
            Fingerprints.ofTable(run, Tables.INSTRUCTIONS),
            Fingerprints.ofTable(run, Tables.RETRIEVALS));
    return StagePlan.of(
        StageOutput.of(CritiqueTables.SELFRAG_SFT, configHash, inputs, out -> write(out, gs, cs)));
  }

  static void write(StageOutput.Staged out, GeneratorDataSettings gs, CritiqueSettings cs) {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    CritiqueInputs.Loaded in = CritiqueInputs.load(ctx, cs.topN());
    Map<String, String> labels = new HashMap<>();
    for (Row r :
        ctx.spark()
            .read()
            .parquet(run.tableUri(CritiqueTables.CRITIC_LABELS))
            .filter("label is not null")
            .select("type", "instruction_id", "sent_idx", "p_idx", "label")
            .collectAsList()) {
      labels.put(
          CritiqueJob.key(
              CriticType.fromWire(r.getString(0)),
              r.getString(1),
              r.isNullAt(2) ? null : r.getInt(2),
              r.isNullAt(3) ? null : r.getInt(3)),
          r.getString(4));
    }
    List<GeneratorAssembly.Item> items = new ArrayList<>();
    for (CritiqueInputs.Item item : in.items()) {
      items.add(item(item, labels, gs.datasetName()));
    }
    GeneratorAssembly.Settings settings =
        new GeneratorAssembly.Settings(
            gs.seed(),
            gs.noRetrievalKeep(),
            gs.partialFirst(),
            gs.noSupportFirst(),
            gs.nqRandom(),
            gs.nqNoRetrievalDrop(),
            gs.asWrittenRandomIndex());
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    jsc.setJobDescription("generator-data");
    List<GeneratorAssembly.Outcome> outcomes =
        items.isEmpty()
            ? List.of()
            : jsc.parallelize(items, Math.min(items.size(), jsc.defaultParallelism()))
                .map(new Assemble(settings))
                .collect();
    List<SftRow> rows = new ArrayList<>();
    List<GeneratorAssembly.Row> selfRag = new ArrayList<>();
    Map<String, Long> dropped = new TreeMap<>();
    for (GeneratorAssembly.Outcome o : outcomes) {
      if (o.row() == null) {
        dropped.merge(o.dropped(), 1L, Long::sum);
        continue;
      }
      GeneratorAssembly.Row r = o.row();
      selfRag.add(r);
      String prompt = GeneratorAssembly.trainingPrompt(r.instruction());
      rows.add(
          new SftRow(
              prompt,
              r.output(),
              List.of(ChatMessage.user(r.instruction()), ChatMessage.assistant(r.output())),
              SftSource.SELFRAG,
              r.id(),
              null));
    }
    SftTable.write(ctx.spark(), rows, out.path());
    long drops = outcomes.size() - rows.size();
    Manifest m =
        out.manifest()
            .count("input", outcomes.size())
            .count("accepted", rows.size())
            .count("rejected", drops)
            .count("duplicates", 0)
            .count("output", rows.size());
    dropped.forEach((why, n) -> m.count("dropped_" + why.replaceAll("[^A-Za-z0-9]+", "_"), n));
    m.put("drop_reasons", dropped);
    m.put("exports", List.of("exports/" + JSON, "exports/" + JSONL));
    out.afterCommit(() -> export(run, selfRag));
    out.summary(
        String.format(
            Locale.ROOT,
            "generator-data: selfrag_sft completed: %,d rows from %,d instructions (%,d dropped: %s) -> %s;"
                + " Self-RAG JSON in %s",
            rows.size(),
            outcomes.size(),
            drops,
            dropped.isEmpty() ? "none" : dropped,
            run.table(CritiqueTables.SELFRAG_SFT),
            run.path("exports")));
  }

  /** The assembly input of one item: its labels, by the keys critique wrote them under. */
  static GeneratorAssembly.Item item(
      CritiqueInputs.Item item, Map<String, String> labels, String datasetName) {
    String id = item.instructionId();
    List<GeneratorAssembly.SentenceLabels> sentences = new ArrayList<>();
    for (Sentences.Sentence s : item.sentences()) {
      List<GeneratorAssembly.Passage> passages = new ArrayList<>();
      List<CritiqueInputs.Ctx> ps = item.passages().get(s.index());
      for (int p = 0; p < ps.size(); p++) {
        passages.add(
            new GeneratorAssembly.Passage(
                ps.get(p).title(),
                ps.get(p).text(),
                labels.get(CritiqueJob.key(CriticType.RELEVANCE, id, s.index(), p)),
                labels.get(CritiqueJob.key(CriticType.SUPPORT, id, s.index(), p))));
      }
      sentences.add(
          new GeneratorAssembly.SentenceLabels(
              s,
              s.index() == 0
                  ? null
                  : labels.get(CritiqueJob.key(CriticType.MULTI_RETRIEVAL, id, s.index())),
              passages));
    }
    return new GeneratorAssembly.Item(
        id,
        datasetName,
        item.instruction(),
        item.output(),
        labels.get(CritiqueJob.key(CriticType.RETRIEVAL, id, null)),
        labels.get(CritiqueJob.key(CriticType.UTILITY, id, null)),
        sentences);
  }

  /** Assembles one item on an executor. */
  static final class Assemble
      implements Function<GeneratorAssembly.Item, GeneratorAssembly.Outcome> {
    private final GeneratorAssembly.Settings settings;

    Assemble(GeneratorAssembly.Settings settings) {
      this.settings = settings;
    }

    @Override
    public GeneratorAssembly.Outcome call(GeneratorAssembly.Item item) {
      return GeneratorAssembly.assemble(item, settings);
    }
  }

  /** Self-RAG's output files: a JSON array and the same rows as JSONL. */
  static void export(RunDir run, List<GeneratorAssembly.Row> rows) {
    List<Map<String, String>> out = new ArrayList<>();
    for (GeneratorAssembly.Row r : rows) {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("instruction", r.instruction());
      m.put("output", r.output());
      m.put("input", r.input());
      m.put("id", r.id());
      m.put("dataset_name", r.datasetName());
      out.add(m);
    }
    try {
      try (Writer w =
          new OutputStreamWriter(
              run.fs().create(new Path(run.path("exports"), JSON), true), StandardCharsets.UTF_8)) {
        w.write(Json.COMPACT.writeValueAsString(out));
      }
      try (Writer w =
          new OutputStreamWriter(
              run.fs().create(new Path(run.path("exports"), JSONL), true),
              StandardCharsets.UTF_8)) {
        for (Map<String, String> m : out) {
          w.write(Json.COMPACT.writeValueAsString(m));
          w.write('\n');
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the Self-RAG export", e);
    }
  }
}
