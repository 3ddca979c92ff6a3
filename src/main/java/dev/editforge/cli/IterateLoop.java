package dev.editforge.cli;

import static org.apache.spark.sql.functions.col;

import dev.editforge.config.EditforgeSettings;
import dev.editforge.config.IterateSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.evaluate.EvaluateJob;
import dev.editforge.finetune.FinetuneJob;
import dev.editforge.generate.GenerateJob;
import dev.editforge.ingest.IngestJob;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Ids;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.select.SelectJob;
import dev.editforge.spark.ExitCodes;
import dev.editforge.spark.ModelDirs;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import dev.editforge.ttt.ScoreJob;
import dev.editforge.ttt.SealEvaluationJob;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

/**
 * SEAL's ReST^EM loop on the shared runner: round r in {@code <run-dir>/round-<r>/} is an ordinary
 * run (articles, self_edits, ttt_scores, sft, finetune, evaluation) whose settings name the round's
 * policy (round 0: the base model; then round r-1's {@code finetune/merged}) as the writer of the
 * self-edits and the TTT base, the SFT base ({@code --from base}: the base model; {@code previous}:
 * the policy) and the held-out articles. Every stage skips itself when up to date, so a rerun after
 * a kill resumes inside the stage that was killed. The {@code rounds} table sums the rounds up.
 */
final class IterateLoop {
  /** Where round {@code r}'s SFT starts. */
  enum From {
    base,
    previous
  }

  private final StageCommand command;
  private final String train;
  private final String heldout;
  private final String model;
  private final int rounds;
  private final From from;

  IterateLoop(
      StageCommand command, String train, String heldout, String model, int rounds, From from) {
    this.command = command;
    this.train = train;
    this.heldout = heldout;
    this.model = model;
    this.rounds = rounds;
    this.from = from;
  }

  static String roundDir(String root, int round) {
    return new Path(RunDir.qualify(root), "round-" + round).toString();
  }

  int run(Launch outer) throws Exception {
    if (rounds < 1) {
      throw new SettingsException("iterate --rounds " + rounds + ": at least 1 round is needed");
    }
    if (model == null || model.isBlank()) {
      throw new SettingsException("iterate needs the base model: --model DIR|HUB_ID");
    }
    EditforgeSettings settings = outer.settings();
    IterateSettings it = settings.iterate();
    String root = settings.runDir();
    String base = ModelDirs.normalize(model);
    SparkSession spark = outer.context().spark();

    Inputs trainIn = articles(outer, "train", "--train", train);
    if (trainIn == null) {
      return ExitCodes.FAILURE;
    }
    Inputs heldIn = articles(outer, "heldout", "--heldout", heldout);
    if (heldIn == null) {
      return ExitCodes.FAILURE;
    }
    List<String> trainIds = ids(spark, trainIn.uri());
    List<String> heldIds = ids(spark, heldIn.uri());
    Rounds.checkDisjoint(trainIds, heldIds);
    List<List<String>> draws = Rounds.draw(trainIds, it.articlesPerRound(), rounds, it.seed());

    List<Rounds.Row> rows = new ArrayList<>();
    List<String> roundInputs = new ArrayList<>();
    String policy = base;
    String policyFp = modelFingerprint(base);
    for (int r = 0; r < rounds; r++) {
      String dir = roundDir(root, r);
      String sftBase = from == From.base ? base : policy;
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("run-dir", dir);
      o.put("generate.what", List.of("self-edits"));
      o.put("generate.model", policy);
      o.put("ttt.model", policy);
      o.put("finetune.model", sftBase);
      o.put("finetune.sft", "");
      o.put("evaluate.model", base);
      o.put("evaluate.tuned", "");
      o.put("evaluate.articles", heldIn.uri());
      // SEAL's evaluation after the round: its policy edits are written by the policy the round
      // trained (the next round's policy), its base edits by the base model
      String trained = localPath(new Path(dir, Tables.FINETUNE + "/merged"));
      o.put("evaluate.policy", trained);
      command
          .console()
          .printf(
              "iterate: round %d of %d in %s: policy %s, SFT from %s, %d training articles%n",
              r, rounds, dir, policy, sftBase, draws.get(r).size());
      Launch launch = Launch.of("iterate", roundOptions(dir), o, command.console());
      int code = ExitCodes.FAILURE;
      try {
        List<PipelineStage> stages =
            List.of(
                new RoundArticles(trainIn, draws.get(r), policy, policyFp, sftBase),
                new GenerateJob(),
                new ScoreJob(),
                new SelectJob(),
                new FinetuneJob(),
                new EvaluateJob());
        code = command.runStages(launch, stages);
        if (code == ExitCodes.OK
            && StageTables.isUsable(launch.context().runDir(), Tables.FINETUNE)) {
          code = command.runStage(launch, new SealEvaluationJob());
        }
      } finally {
        launch.finish(code);
      }
      if (code != ExitCodes.OK) {
        command.console().println("iterate: stopped in round " + r + "; rerun to resume there");
        return code;
      }
      RunDir run = launch.context().runDir();
      if (!StageTables.isUsable(run, Tables.FINETUNE)) {
        throw new UnusableInputException(
            "iterate: round "
                + r
                + " wrote no fine-tuned model (see the messages above: no self-edits scored or"
                + " no SFT rows selected), so there is no policy for the next round");
      }
      rows.add(row(spark, run, r, policy, policyFp));
      for (String t : List.of(Tables.TTT_SCORES, Tables.SFT, Tables.FINETUNE, Tables.EVALUATION)) {
        roundInputs.add("round-" + r + ":" + Fingerprints.ofTable(run, t));
      }
      for (String t : List.of(Tables.EVALUATION_SEAL)) {
        roundInputs.add("round-" + r + ":" + Fingerprints.ofTable(run, t));
      }
      policy = trained;
      policyFp = modelFingerprint(policy);
    }
    int code = command.runStage(outer, new RoundsTable(rows, roundInputs, base, from));
    command.console().println();
    command.console().println("iterate: " + rounds + " rounds in " + root);
    command.console().print(Rounds.render(rows));
    return code;
  }

  private static String localPath(Path p) {
    return "file".equals(p.toUri().getScheme())
        ? java.nio.file.Path.of(p.toUri()).toString()
        : p.toString();
  }

  /** A model's fingerprint ({@link Fingerprints#ofModel}). */
  static String modelFingerprint(String ref) {
    return Fingerprints.ofModel(ref);
  }

  private CommonOptions roundOptions(String dir) {
    CommonOptions o = new CommonOptions();
    o.conf = command.common.conf;
    o.sets = command.common.sets;
    o.force = command.common.force;
    o.runDir = dir;
    return o;
  }

  /** An articles table: where it lies and its fingerprint. */
  record Inputs(String uri, String fingerprint) {}

  /**
   * The articles table of {@code spec}: {@code squad:FILE} is ingested into {@code
   * <run-dir>/<name>/} (skipped when up to date); anything else is the path of an articles table.
   * Null when the ingest failed (its message is printed).
   */
  private Inputs articles(Launch outer, String name, String flag, String spec) throws Exception {
    if (spec == null || spec.isBlank()) {
      throw new SettingsException("iterate needs " + flag + " squad:FILE or an articles table");
    }
    if (spec.startsWith("squad:")) {
      String dir = new Path(RunDir.qualify(outer.settings().runDir()), name).toString();
      Launch launch =
          Launch.of(
              "iterate",
              roundOptions(dir),
              Map.of("ingest.inputs", List.of(spec), "run-dir", dir),
              command.console());
      int code = ExitCodes.FAILURE;
      try {
        code = command.runStage(launch, new IngestJob());
      } finally {
        launch.finish(code);
      }
      if (code != ExitCodes.OK) {
        return null;
      }
      RunDir run = launch.context().runDir();
      if (!StageTables.isUsable(run, Tables.ARTICLES)) {
        throw new UnusableInputException(
            "iterate " + flag + " " + spec + ": the input holds no SQuAD articles");
      }
      return new Inputs(run.tableUri(Tables.ARTICLES), Fingerprints.ofTable(run, Tables.ARTICLES));
    }
    Path p = RunDir.qualify(spec);
    FileSystem fs = p.getFileSystem(outer.context().spark().sparkContext().hadoopConfiguration());
    if (!fs.exists(p)) {
      throw new UnusableInputException(
          "iterate " + flag + " " + spec + ": no such articles table (or give squad:FILE)");
    }
    return new Inputs(
        p.toString(),
        "articles:"
            + p
            + ":"
            + fs.getContentSummary(p).getLength()
            + ":"
            + fs.getFileStatus(p).getModificationTime());
  }

  private static List<String> ids(SparkSession spark, String uri) {
    return spark
        .read()
        .parquet(uri)
        .select("article_id")
        .as(org.apache.spark.sql.Encoders.STRING())
        .collectAsList();
  }

  private static Rounds.Row row(
      SparkSession spark, RunDir run, int round, String policy, String policyFp) {
    List<Rounds.Score> scores = new ArrayList<>();
    if (StageTables.isUsable(run, Tables.TTT_SCORES)) {
      for (Row x :
          spark
              .read()
              .parquet(run.tableUri(Tables.TTT_SCORES))
              .select("baseline_accuracy", "adapter_accuracy", "adapter_gain")
              .collectAsList()) {
        scores.add(new Rounds.Score(x.getDouble(0), x.getDouble(1), x.getDouble(2)));
      }
    }
    long sft = run.manifest(Tables.SFT).map(m -> m.count("output")).orElse(0L);
    Double eval = number(run, Tables.EVALUATION, "tuned_accuracy");
    Double[] seal = new Double[4];
    String[] keys = {"no_training", "passage_only", "base_edits", "policy_edits"};
    for (int i = 0; i < keys.length; i++) {
      seal[i] = number(run, Tables.EVALUATION_SEAL, keys[i]);
    }
    return Rounds.row(round, policy, policyFp, scores, sft, eval, seal);
  }

  private static Double number(RunDir run, String table, String key) {
    return run.manifest(table)
        .map(m -> m.get(key))
        .map(v -> v instanceof Number n ? n.doubleValue() : null)
        .orElse(null);
  }

  /**
   * A round's {@code articles} table: the round's draw of training articles. Its inputs name the
   * policy and SFT base, so a round whose policy changed (the previous round was redone) redoes
   * every stage after it; its manifest records which model writes the round's self-edits.
   */
  static final class RoundArticles implements PipelineStage {
    private final Inputs train;
    private final List<String> ids;
    private final String policy;
    private final String policyFp;
    private final String sftBase;

    RoundArticles(Inputs train, List<String> ids, String policy, String policyFp, String sftBase) {
      this.train = train;
      this.ids = ids;
      this.policy = policy;
      this.policyFp = policyFp;
      this.sftBase = sftBase;
    }

    @Override
    public String name() {
      return "iterate-articles";
    }

    @Override
    public StagePlan plan(StageContext ctx) {
      return StagePlan.of(
          StageOutput.of(
              Tables.ARTICLES,
              Ids.of(ids.toArray(new String[0])),
              List.of(train.fingerprint(), "policy:" + policy + ":" + policyFp, "sft:" + sftBase),
              out -> {
                Dataset<Row> rows =
                    ctx.spark()
                        .read()
                        .parquet(train.uri())
                        .filter(col("article_id").isin(ids.toArray()));
                rows.coalesce(1).write().parquet(out.uri());
                long n = ctx.spark().read().parquet(out.uri()).count();
                Manifest m = out.manifest();
                m.count("output", n);
                m.put("training_articles", train.uri());
                m.put("policy_model", policy);
                m.put("policy_fingerprint", policyFp);
                m.put("sft_base_model", sftBase);
              }));
    }
  }

  /** {@code <run-dir>/rounds}: one row per round, rewritten when any round's outputs changed. */
  static final class RoundsTable implements PipelineStage {
    private final List<Rounds.Row> rows;
    private final List<String> inputs;
    private final String base;
    private final From from;

    RoundsTable(List<Rounds.Row> rows, List<String> inputs, String base, From from) {
      this.rows = rows;
      this.inputs = inputs;
      this.base = base;
      this.from = from;
    }

    @Override
    public String name() {
      return "iterate";
    }

    @Override
    public StagePlan plan(StageContext ctx) {
      return StagePlan.of(
          StageOutput.of(
              Tables.ROUNDS,
              Ids.of("rounds", Integer.toString(rows.size()), base, from.name()),
              inputs,
              out -> {
                List<Row> out1 = new ArrayList<>();
                for (Rounds.Row r : rows) {
                  out1.add(
                      RowFactory.create(
                          r.round(),
                          r.policyModel(),
                          r.policyFingerprint(),
                          r.meanBaselineAccuracy(),
                          r.meanAdapterAccuracy(),
                          r.meanGain(),
                          r.positiveGainShare(),
                          r.sftRows(),
                          r.evalAccuracy(),
                          r.sealNoTraining(),
                          r.sealPassageOnly(),
                          r.sealBaseEdits(),
                          r.sealPolicyEdits()));
                }
                ctx.spark()
                    .createDataFrame(out1, Tables.ROUNDS_SCHEMA)
                    .coalesce(1)
                    .write()
                    .parquet(out.uri());
                out.manifest().count("output", rows.size());
                out.manifest().put("base_model", base);
                out.manifest().put("sft_from", from.name());
              }));
    }
  }
}
