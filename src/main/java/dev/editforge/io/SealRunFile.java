package dev.editforge.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.text.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * SEAL's TTT-scoring output ({@code query_server.py}'s {@code run_*.json}, e.g. {@code
 * rank_iter0.json}): per article its generation prompt and completions; per completion SEAL's
 * {@code stats} and one entry per (repeat, question) with both answers and GPT-4.1's verdicts.
 * Read-only; used to import SEAL's scores and to measure local judges against its grader.
 */
public final class SealRunFile {
  private SealRunFile() {}

  public record Run(int evalTimes, List<Article> articles) {
    public Run {
      articles = List.copyOf(articles);
    }
  }

  /** One passage; {@code prompt} is the exact text the self-edits were generated from. */
  public record Article(String title, String context, String prompt, List<Completion> completions) {
    public Article {
      completions = List.copyOf(completions);
    }
  }

  /** One self-edit; {@code adapterMean}/{@code baselineMean} are SEAL's {@code stats} values. */
  public record Completion(
      String text, double adapterMean, double baselineMean, List<Question> questions) {
    public Completion {
      questions = List.copyOf(questions);
    }
  }

  /** One question of one repeat: {@code question} is the bare SQuAD question (no Topic line). */
  public record Question(
      int rep,
      String question,
      String answer,
      String baselineAnswer,
      String adapterAnswer,
      boolean baselineCorrect,
      boolean adapterCorrect) {}

  public static Run read(Path file) throws IOException {
    return parse(Json.COMPACT.readTree(file.toFile()), file.toString());
  }

  /**
   * Reads {@code ref}: a Hadoop URI (hdfs://, s3a://, file:/) through its file system in {@code
   * conf}, anything else as a local path.
   */
  public static Run read(String ref, org.apache.hadoop.conf.Configuration conf) throws IOException {
    if (!isUri(ref)) {
      return read(Path.of(ref));
    }
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(ref);
    try (java.io.InputStream in = p.getFileSystem(conf).open(p)) {
      return parse(Json.COMPACT.readTree(in), ref);
    }
  }

  /** Whether {@code ref} has a URI scheme (hdfs://, s3a://, file:/) rather than being a path. */
  public static boolean isUri(String ref) {
    return ref != null && ref.matches("^[A-Za-z][A-Za-z0-9+.-]+:/.*");
  }

  private static Run parse(JsonNode root, String file) throws IOException {
    if (root == null || !root.path("articles").isArray()) {
      throw new IOException(file + ": not a SEAL run file (no \"articles\" array)");
    }
    List<Article> articles = new ArrayList<>();
    int ai = 0;
    for (JsonNode a : root.get("articles")) {
      String where = file + ": articles[" + ai + "]";
      List<Completion> comps = new ArrayList<>();
      int ci = 0;
      for (JsonNode c : a.path("completions")) {
        String cw = where + ".completions[" + ci + "]";
        List<Question> qs = new ArrayList<>();
        for (JsonNode q : c.path("questions")) {
          qs.add(
              new Question(
                  q.path("rep").asInt(0),
                  text(q, "question", cw),
                  text(q, "answer", cw),
                  q.path("baseline_answer").asText(""),
                  q.path("adapter_answer").asText(""),
                  bool(q, "baseline_correct", cw),
                  bool(q, "adapter_correct", cw)));
        }
        JsonNode stats = c.path("stats");
        if (!stats.path("adapter_mean").isNumber()) {
          throw new IOException(cw + ": stats.adapter_mean missing");
        }
        comps.add(
            new Completion(
                text(c, "text", cw),
                stats.get("adapter_mean").asDouble(),
                stats.path("baseline_mean").asDouble(0.0),
                qs));
        ci++;
      }
      articles.add(
          new Article(
              text(a, "title", where),
              text(a, "context", where),
              a.path("prompt").asText(""),
              comps));
      ai++;
    }
    return new Run(root.path("eval_times").asInt(0), articles);
  }

  private static String text(JsonNode n, String field, String where) throws IOException {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new IOException(where + ": \"" + field + "\" missing or not a string");
    }
    return v.asText();
  }

  private static boolean bool(JsonNode n, String field, String where) throws IOException {
    JsonNode v = n.get(field);
    if (v == null || !v.isBoolean()) {
      throw new IOException(where + ": \"" + field + "\" missing or not a boolean");
    }
    return v.asBoolean();
  }
}
