package dev.editforge.generate;

import dev.editforge.config.SelfEditSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Rows;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;

/**
 * {@code editforge generate --import-seal FILE}: SEAL's synthetic data (e.g. {@code base_val.json})
 * into the {@code articles} and {@code self_edits} tables, generating nothing ({@link
 * SealSyntheticData}). Imported edits carry model {@code imported} and no finish reason; SEAL's
 * file does not record its sampling, so the {@code sampling} struct holds the configured {@code
 * editforge.generate.self-edit} values (SEAL's defaults) and each edit's sample index. The file is
 * one JSON document, read on the driver.
 */
public final class SealImportJob implements PipelineStage {
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
  public StagePlan plan(StageContext ctx) {
    Path path = RunDir.qualify(file);
    FileSystem fs;
    try {
      fs = path.getFileSystem(ctx.runDir().fs().getConf());
      if (!fs.isFile(path)) {
        throw new UnusableInputException(
            "SEAL synthetic-data file " + file + " does not exist or is not a file");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + path, e);
    }
    SelfEditSettings se = ctx.settings().selfEdit();
    String configHash = Fingerprints.configHash(ctx.settings().section("generate.self-edit"));
    List<String> inputs = List.of("seal=" + Fingerprints.ofFile(fs, path));
    // Both tables come from the one file, read once by whichever of them is written first.
    Loaded data = new Loaded(fs, path, file, se);
    return StagePlan.of(
        StageOutput.of(
                Tables.ARTICLES, configHash, inputs, out -> writeArticles(out, data.get(), file))
            .withFingerprintName(STAGE + ":import-seal"),
        StageOutput.of(
                Tables.SELF_EDITS, configHash, inputs, out -> writeEdits(out, data.get(), file, se))
            .withFingerprintName(STAGE + ":import-seal"));
  }

  /**
   * The file's import, parsed on first use; a file that cannot be imported is an unusable input
   * (exit 2).
   */
  static final class Loaded {
    private final FileSystem fs;
    private final Path path;
    private final String file;
    private final SelfEditSettings se;
    private SealSyntheticData.Import data;

    Loaded(FileSystem fs, Path path, String file, SelfEditSettings se) {
      this.fs = fs;
      this.path = path;
      this.file = file;
      this.se = se;
    }

    SealSyntheticData.Import get() {
      if (data == null) {
        try (InputStream in = fs.open(path)) {
          data = SealSyntheticData.read(in, file, se.prompts());
        } catch (IOException e) {
          throw new UnusableInputException("cannot import " + file + ": " + e.getMessage());
        }
      }
      return data;
    }
  }

  static void writeArticles(StageOutput.Staged out, SealSyntheticData.Import data, String file) {
    List<Row> rows = new ArrayList<>();
    long questions = 0;
    for (SealSyntheticData.Article a : data.articles()) {
      List<Row> qs = new ArrayList<>();
      for (SealSyntheticData.Question q : a.questions()) {
        qs.add(RowFactory.create(q.questionId(), q.question(), Rows.seq(q.answers())));
      }
      questions += qs.size();
      rows.add(RowFactory.create(a.articleId(), a.title(), a.context(), Rows.seq(qs)));
    }
    write(out, Tables.ARTICLES, rows, "article_id");
    out.manifest()
        .put("imported_from", file)
        .count("input", data.articles().size() + data.duplicateArticles())
        .count("accepted", data.articles().size())
        .count("rejected", 0)
        .count("duplicates", data.duplicateArticles())
        .count("output", data.articles().size())
        .count("questions", questions);
    out.summary(
        String.format(
            Locale.ROOT,
            "generate: imported %s: articles %,d rows (%,d questions); %,d duplicate articles -> %s",
            file,
            data.articles().size(),
            questions,
            data.duplicateArticles(),
            out.context().runDir().table(Tables.ARTICLES)));
  }

  static void writeEdits(
      StageOutput.Staged out, SealSyntheticData.Import data, String file, SelfEditSettings se) {
    List<Row> rows = new ArrayList<>();
    Map<String, Long> byKey = new TreeMap<>();
    for (SealSyntheticData.Edit e : data.edits()) {
      Row sampling =
          RowFactory.create(
              se.temperature(), se.topP(), 0, se.maxNewTokens(), se.seed(), e.sampleIndex());
      rows.add(
          RowFactory.create(
              e.editId(),
              e.articleId(),
              e.promptKey(),
              e.prompt(),
              e.completion(),
              MODEL,
              sampling,
              null,
              null));
      byKey.merge(e.promptKey(), 1L, Long::sum);
    }
    write(out, Tables.SELF_EDITS, rows, "article_id", "sampling.sample_index");
    out.manifest()
        .put("imported_from", file)
        .count("input", data.edits().size() + data.duplicateEdits())
        .count("accepted", data.edits().size())
        .count("rejected", 0)
        .count("duplicates", data.duplicateEdits())
        .count("output", data.edits().size());
    out.manifest().put("prompt_keys", byKey);
    out.manifest()
        .put(
            "sampling_note",
            "SEAL's file does not record sampling; the configured editforge.generate.self-edit values are stored");
    out.summary(
        String.format(
            Locale.ROOT,
            "generate: imported %s: self_edits %,d rows (prompt keys %s) -> %s",
            file,
            data.edits().size(),
            byKey,
            out.context().runDir().table(Tables.SELF_EDITS)));
  }

  private static void write(StageOutput.Staged out, String table, List<Row> rows, String... order) {
    StageContext ctx = out.context();
    ctx.spark().sparkContext().setJobDescription("generate --import-seal");
    Column[] cols = new Column[order.length];
    for (int i = 0; i < order.length; i++) {
      cols[i] = functions.col(order[i]);
    }
    ctx.spark()
        .createDataFrame(rows, Tables.schema(table))
        .orderBy(cols)
        .write()
        .parquet(out.uri());
  }
}
