package dev.editforge.generate;

import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Rows;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * {@code editforge generate --import-seal FILE}: SEAL's synthetic data (e.g. {@code base_val.json})
 * into the {@code articles} and {@code self_edits} tables, generating nothing
 * ({@link SealSyntheticData}). Imported edits carry model {@code imported} and no finish reason;
 * SEAL's file does not record its sampling, so the {@code sampling} struct holds the configured
 * {@code editforge.generate.self-edit} values (SEAL's defaults) and each edit's sample index.
 * The file is one JSON document, read on the driver.
 */
public final class SealImportJob implements dev.editforge.spark.LegacyStage {
  public static final String STAGE = "generate";
  public static final String MODEL = "imported";

  private final String file;

  public SealImportJob(String file) {
    this.file = file;
  }

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public StageOutcome run(StageContext ctx) {
    RunDir run = ctx.runDir();
    Path path = RunDir.qualify(file);
    FileSystem fs;
    try {
      fs = path.getFileSystem(run.fs().getConf());
      if (!fs.isFile(path)) {
        throw new UnusableInputException("SEAL synthetic-data file " + file + " does not exist or is not a file");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + path, e);
    }
    SelfEditSettings se = ctx.settings().selfEdit();
    String configHash = Fingerprints.configHash(ctx.settings().section("generate.self-edit"));
    String fingerprint = Fingerprints.combine(STAGE + ":import-seal", ctx.settings().codeVersion(), configHash,
        List.of("seal=" + Fingerprints.ofFile(fs, path)));
    if (!ctx.force()) {
      Optional<Manifest> articles = StageTables.upToDate(run, Tables.ARTICLES, fingerprint);
      Optional<Manifest> edits = StageTables.upToDate(run, Tables.SELF_EDITS, fingerprint);
      if (articles.isPresent() && edits.isPresent()) {
        List<Manifest> out = new ArrayList<>();
        for (String table : List.of(Tables.ARTICLES, Tables.SELF_EDITS)) {
          Manifest m = StageTables.markSkipped(run, table, (table.equals(Tables.ARTICLES) ? articles : edits).get());
          ctx.say("generate: " + table + " skipped: up-to-date (" + m.count("output") + " rows in " + run.table(table) + ")");
          out.add(m);
        }
        return StageOutcome.ok(STAGE, out);
      }
    }

    SealSyntheticData.Import data;
    try (InputStream in = fs.open(path)) {
      data = SealSyntheticData.read(in, file, se.prompts());
    } catch (IOException e) {
      throw new UnusableInputException("cannot import " + file + ": " + e.getMessage());
    }
    ctx.spark().sparkContext().setJobDescription("generate --import-seal");

    List<Row> articleRows = new ArrayList<>();
    long questions = 0;
    for (SealSyntheticData.Article a : data.articles()) {
      List<Row> qs = new ArrayList<>();
      for (SealSyntheticData.Question q : a.questions()) {
        qs.add(RowFactory.create(q.questionId(), q.question(), Rows.seq(q.answers())));
      }
      questions += qs.size();
      articleRows.add(RowFactory.create(a.articleId(), a.title(), a.context(), Rows.seq(qs)));
    }
    List<Row> editRows = new ArrayList<>();
    Map<String, Long> byKey = new TreeMap<>();
    for (SealSyntheticData.Edit e : data.edits()) {
      Row sampling = RowFactory.create(se.temperature(), se.topP(), 0, se.maxNewTokens(), se.seed(), e.sampleIndex());
      editRows.add(RowFactory.create(e.editId(), e.articleId(), e.promptKey(), e.prompt(), e.completion(), MODEL, sampling,
          null, null));
      byKey.merge(e.promptKey(), 1L, Long::sum);
    }

    Manifest am = start(ctx, Tables.ARTICLES, configHash, fingerprint)
        .count("input", data.articles().size() + data.duplicateArticles())
        .count("accepted", data.articles().size()).count("rejected", 0).count("duplicates", data.duplicateArticles())
        .count("output", data.articles().size()).count("questions", questions);
    Manifest em = start(ctx, Tables.SELF_EDITS, configHash, fingerprint)
        .count("input", data.edits().size() + data.duplicateEdits())
        .count("accepted", data.edits().size()).count("rejected", 0).count("duplicates", data.duplicateEdits())
        .count("output", data.edits().size());
    em.put("prompt_keys", byKey);
    em.put("sampling_note", "SEAL's file does not record sampling; the configured editforge.generate.self-edit values are stored");
    write(ctx, Tables.ARTICLES, articleRows, am, "article_id");
    write(ctx, Tables.SELF_EDITS, editRows, em, "article_id", "sampling.sample_index");
    ctx.say(String.format(Locale.ROOT,
        "generate: imported %s: articles %,d rows (%,d questions), self_edits %,d rows (prompt keys %s); %,d duplicate articles -> %s",
        file, data.articles().size(), questions, data.edits().size(), byKey, data.duplicateArticles(), run.root()));
    return StageOutcome.ok(STAGE, List.of(am, em));
  }

  private Manifest start(StageContext ctx, String table, String configHash, String fingerprint) {
    return Manifest.start(STAGE, table, configHash, ctx.settings().codeVersion(), fingerprint).put("imported_from", file);
  }

  private static void write(StageContext ctx, String table, List<Row> rows, Manifest m, String... order) {
    RunDir run = ctx.runDir();
    Path staging = run.newStaging(table);
    org.apache.spark.sql.Column[] cols = new org.apache.spark.sql.Column[order.length];
    for (int i = 0; i < order.length; i++) {
      cols[i] = org.apache.spark.sql.functions.col(order[i]);
    }
    ctx.spark().createDataFrame(rows, Tables.schema(table)).orderBy(cols).write().parquet(staging.toString());
    m.finish(Manifest.COMPLETED);
    run.writeString(new Path(staging, RunDir.MANIFEST), m.toJson());
    run.commit(staging, table);
  }
}
