package dev.editforge.critique;

import dev.editforge.config.CritiqueSettings;
import dev.editforge.config.MaxErrorFraction;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.llm.hub.HubClient;
import dev.editforge.llm.hub.HubSettings;
import dev.editforge.selfrag.CriticPrompts;
import dev.editforge.selfrag.CriticType;
import dev.editforge.selfrag.ReflectionTokens;
import dev.editforge.selfrag.Sentences;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;

/**
 * {@code editforge critique}: Self-RAG's critic labels into {@code critic_labels}. For every item
 * of {@link CritiqueInputs}, in two rounds (the second depends on the first, as Self-RAG's
 * create_prompt_data.py does):
 *
 * <ol>
 *   <li>retrieval (the instruction), utility (the whole output), and multi-retrieval for every
 *       sentence after the first that is not skipped and has a passage (evidence = its top passage,
 *       chatgpt_need_retrieval.py --multi_retrieval);
 *   <li>relevance and support for every (sentence, passage), except for instructions labelled
 *       {@code [No Retrieval]} (postprocess_data.py never reads them) and sentences after the first
 *       whose multi-retrieval label says {@code No Retrieval} (create_prompt_data.py:91).
 * </ol>
 *
 * The calls fan out over Spark tasks ({@code critique.partitions}), with at most {@code
 * critique.max-concurrency} requests in flight per endpoint on each executor. Each question is one
 * row: labelled, or with the reason it is not. A table with error rows is never up to date: the
 * next run keeps every labelled row whose question is unchanged and asks only the rest.
 */
public final class CritiqueJob implements PipelineStage {
  public static final String STAGE = "critique";

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public List<String> requires() {
    return List.of(Tables.INSTRUCTIONS);
  }

  @Override
  public StagePlan plan(StageContext ctx) {
    CritiqueSettings cs = CritiqueSettings.from(ctx.settings());
    JudgeSpec spec;
    if (cs.local()) {
      if (cs.model().isEmpty()) {
        return StagePlan.nothingToDo(
            "critique: no judge model (give --model DIR|ORG/NAME or set editforge.critique.model;"
                + " or --backend openai with editforge.remote.*)");
      }
      Path dir;
      if (Files.isDirectory(Path.of(cs.model()))) {
        dir = Path.of(cs.model()).toAbsolutePath();
      } else {
        try (HubClient hub = new HubClient(HubSettings.fromEnvironment(), ctx::say)) {
          dir = hub.resolve(cs.model());
        }
      }
      spec =
          JudgeSpec.local(
              dir,
              Files.isDirectory(Path.of(cs.model())) ? dir.getFileName().toString() : cs.model(),
              cs.chat(),
              cs.maxNewTokens(),
              cs.temperature(),
              ctx.settings().llm());
    } else {
      var remote = ctx.settings().remote();
      spec =
          JudgeSpec.remote(
              remote,
              cs.model().isEmpty() ? remote.model() : cs.model(),
              cs.chat(),
              cs.maxNewTokens(),
              cs.temperature(),
              cs.maxConcurrency());
    }
    String configHash =
        Fingerprints.configHash(
            ctx.settings()
                .section(STAGE)
                .withoutPath("max-error-fraction")
                .withFallback(
                    cs.local()
                        ? ctx.settings().section("llm").atKey("llm")
                        : ctx.settings().section("remote").atKey("remote")));
    List<String> inputs = new ArrayList<>();
    inputs.add(Fingerprints.ofTable(ctx.runDir(), Tables.INSTRUCTIONS));
    inputs.add(Fingerprints.ofTable(ctx.runDir(), Tables.RETRIEVALS));
    inputs.add("judge=" + spec.name() + ":" + spec.modelDir());
    JudgeSpec judge = spec;
    return StagePlan.of(
        StageOutput.of(
                CritiqueTables.CRITIC_LABELS, configHash, inputs, out -> write(out, cs, judge))
            .reusableWhen(m -> m.count("errors") == 0));
  }

  static void write(StageOutput.Staged out, CritiqueSettings cs, JudgeSpec spec) {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    CritiqueInputs.Loaded in = CritiqueInputs.load(ctx, cs.topN());
    if (!in.retrievals()) {
      ctx.say(
          "critique: no retrievals table in "
              + run.root()
              + ": only retrieval and utility labels (run editforge retrieve first for passages)");
    }
    Map<String, Row> kept = ctx.force() ? Map.of() : previous(ctx);
    String model = spec.name();
    ctx.say(
        String.format(
            Locale.ROOT,
            "critique: %,d instructions with outputs, judge %s (%s)%s",
            in.items().size(),
            model,
            spec.local() ? "local" : spec.endpoint(),
            kept.isEmpty() ? "" : String.format(Locale.ROOT, "; %,d labels kept", kept.size())));
    Asked first =
        ask(
            ctx,
            "retrieval, utility, multi-retrieval",
            phase1(in.items(), cs, model),
            kept,
            spec,
            cs);
    Asked second =
        ask(
            ctx,
            "relevance, support",
            phase2(in.items(), labels(first.rows), model),
            kept,
            spec,
            cs);
    List<Row> rows = new ArrayList<>(first.rows);
    rows.addAll(second.rows);
    ctx.spark()
        .createDataFrame(rows, CritiqueTables.CRITIC_LABELS_SCHEMA)
        .coalesce(1)
        .write()
        .parquet(out.uri());
    long errors = rows.stream().filter(r -> !r.isNullAt(11)).count();
    Map<String, Long> perType = new LinkedHashMap<>();
    for (CriticType t : CriticType.values()) {
      perType.put(t.wireName(), 0L);
    }
    for (Row r : rows) {
      if (r.isNullAt(11)) {
        perType.merge(r.getString(1), 1L, Long::sum);
      }
    }
    double seconds = first.seconds + second.seconds;
    long asked = first.asked + second.asked;
    Manifest m =
        out.manifest()
            .count("input", rows.size())
            .count("accepted", rows.size())
            .count("rejected", 0)
            .count("duplicates", 0)
            .count("output", rows.size())
            .count("instructions", in.items().size())
            .count("instructions_without_output", in.withoutOutput())
            .count("labelled", rows.size() - errors)
            .count("errors", errors)
            .count("reused", rows.size() - asked)
            .count("asked", asked);
    perType.forEach((k, v) -> m.count("labelled_" + k, v));
    m.put("judge", spec.describe());
    m.put("labels_per_second", seconds > 0 ? asked / seconds : 0.0);
    m.put("error_fraction", MaxErrorFraction.fraction(errors, rows.size()));
    String failure =
        cs.maxErrorFraction()
            .failure(
                "critique: " + CritiqueTables.CRITIC_LABELS,
                errors,
                rows.size(),
                "critic questions ended with an error; a rerun asks only those");
    if (failure != null) {
      out.fail(failure);
      return;
    }
    if (cs.export()) {
      out.afterCommit(
          () ->
              CriticExport.write(
                  run, CriticExport.rows(in.items(), rows, cs), cs.devSize(), cs.exportSeed()));
      m.put("exports", CriticExport.fileNames());
    }
    out.summary(
        String.format(
            Locale.ROOT,
            "critique: critic_labels completed: %,d labels (%,d asked, %,d kept; %,d with errors: %s) for %,d"
                + " instructions, %.1f labels/s -> %s",
            rows.size() - errors,
            asked,
            rows.size() - asked,
            errors,
            errors == 0 ? "none" : "a rerun asks them again",
            in.items().size(),
            seconds > 0 ? asked / seconds : 0.0,
            run.table(CritiqueTables.CRITIC_LABELS)));
  }

  /** Rows of the committed table that carry a label, by label id (nothing when there is none). */
  static Map<String, Row> previous(StageContext ctx) {
    RunDir run = ctx.runDir();
    if (run.manifest(CritiqueTables.CRITIC_LABELS).isEmpty()) {
      return Map.of();
    }
    Map<String, Row> out = new HashMap<>();
    for (Row r :
        ctx.spark()
            .read()
            .schema(CritiqueTables.CRITIC_LABELS_SCHEMA)
            .parquet(run.tableUri(CritiqueTables.CRITIC_LABELS))
            .filter("error is null")
            .collectAsList()) {
      out.put(r.getString(0), r);
    }
    return out;
  }

  private record Asked(List<Row> rows, long asked, double seconds) {}

  /** Keeps what {@code kept} answers, asks the rest over the executors. */
  private static Asked ask(
      StageContext ctx,
      String what,
      List<CriticTask> tasks,
      Map<String, Row> kept,
      JudgeSpec spec,
      CritiqueSettings cs) {
    List<Row> rows = new ArrayList<>();
    List<CriticTask> pending = new ArrayList<>();
    for (CriticTask t : tasks) {
      Row k = kept.get(t.labelId());
      if (k != null) {
        rows.add(k);
      } else {
        pending.add(t);
      }
    }
    if (pending.isEmpty()) {
      return new Asked(rows, 0, 0);
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    int partitions =
        Math.max(
            1,
            Math.min(
                pending.size(), cs.partitions() > 0 ? cs.partitions() : jsc.defaultParallelism()));
    int batch = spec.local() ? Math.max(1, spec.maxBatchSize()) : spec.maxConcurrency();
    jsc.setJobDescription("critique: " + what);
    long t0 = System.nanoTime();
    List<Row> answered =
        jsc.parallelize(pending, partitions)
            .mapPartitions(new CritiqueFunctions.Ask(spec, batch))
            .collect();
    double seconds = (System.nanoTime() - t0) / 1e9;
    rows.addAll(answered);
    ctx.say(
        String.format(
            Locale.ROOT,
            "critique: %s: %,d asked in %.1fs (%.1f labels/s), %,d kept",
            what,
            pending.size(),
            seconds,
            pending.size() / Math.max(seconds, 1e-9),
            tasks.size() - pending.size()));
    return new Asked(rows, pending.size(), seconds);
  }

  /** Round one: retrieval and utility per instruction, multi-retrieval per later sentence. */
  static List<CriticTask> phase1(
      List<CritiqueInputs.Item> items, CritiqueSettings cs, String model) {
    List<CriticTask> tasks = new ArrayList<>();
    for (CritiqueInputs.Item item : items) {
      String id = item.instructionId();
      tasks.add(
          CriticTask.of(
              CriticType.RETRIEVAL,
              model,
              id,
              null,
              null,
              null,
              CriticPrompts.retrieval(item.instruction())));
      tasks.add(
          CriticTask.of(
              CriticType.UTILITY,
              model,
              id,
              null,
              null,
              null,
              CriticPrompts.utility(item.instruction(), "", item.output())));
      for (Sentences.Sentence s : item.sentences()) {
        List<CritiqueInputs.Ctx> ps = item.passages().get(s.index());
        if (s.index() == 0 || s.skipped() || ps.isEmpty()) {
          continue;
        }
        CritiqueInputs.Ctx top = ps.get(0);
        tasks.add(
            CriticTask.of(
                CriticType.MULTI_RETRIEVAL,
                model,
                id,
                s.index(),
                0,
                top.passageId(),
                CriticPrompts.multiRetrieval(
                    item.instruction(),
                    Sentences.preceding(item.sentences(), s.index()),
                    CriticPrompts.evidence(top.title(), top.text()),
                    s.text(),
                    cs.threeWayTemplate())));
      }
    }
    return tasks;
  }

  /** Round two: relevance and support per (sentence, passage) that postprocessing can use. */
  static List<CriticTask> phase2(
      List<CritiqueInputs.Item> items, Map<String, String> labels, String model) {
    List<CriticTask> tasks = new ArrayList<>();
    for (CritiqueInputs.Item item : items) {
      String id = item.instructionId();
      if (ReflectionTokens.NO_RETRIEVAL.equals(labels.get(key(CriticType.RETRIEVAL, id, null)))) {
        continue;
      }
      for (Sentences.Sentence s : item.sentences()) {
        if (s.skipped()) {
          continue;
        }
        String multi = labels.get(key(CriticType.MULTI_RETRIEVAL, id, s.index()));
        if (s.index() > 0 && multi != null && multi.contains("No Retrieval")) {
          continue;
        }
        String preceding = Sentences.preceding(item.sentences(), s.index());
        List<CritiqueInputs.Ctx> ps = item.passages().get(s.index());
        for (int p = 0; p < ps.size(); p++) {
          CritiqueInputs.Ctx c = ps.get(p);
          String evidence = CriticPrompts.evidence(c.title(), c.text());
          tasks.add(
              CriticTask.of(
                  CriticType.RELEVANCE,
                  model,
                  id,
                  s.index(),
                  p,
                  c.passageId(),
                  CriticPrompts.relevance(
                      item.instruction(), evidence, CriticPrompts.hasPreceding(preceding))));
          tasks.add(
              CriticTask.of(
                  CriticType.SUPPORT,
                  model,
                  id,
                  s.index(),
                  p,
                  c.passageId(),
                  CriticPrompts.support(item.instruction(), preceding, s.text(), evidence)));
        }
      }
    }
    return tasks;
  }

  /** The labels of {@code rows} by {@link #key}; rows without a label are left out. */
  static Map<String, String> labels(List<Row> rows) {
    Map<String, String> out = new HashMap<>();
    for (Row r : rows) {
      if (!r.isNullAt(10)) {
        out.put(
            key(
                CriticType.fromWire(r.getString(1)),
                r.getString(2),
                r.isNullAt(3) ? null : r.getInt(3),
                r.isNullAt(4) ? null : r.getInt(4)),
            r.getString(10));
      }
    }
    return out;
  }

  static String key(CriticType type, String instructionId, Integer sentIdx) {
    return key(type, instructionId, sentIdx, type == CriticType.MULTI_RETRIEVAL ? 0 : null);
  }

  static String key(CriticType type, String instructionId, Integer sentIdx, Integer pIdx) {
    return type.wireName() + "#" + instructionId + "#" + sentIdx + "#" + pIdx;
  }
}
