package dev.editforge.generate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.io.Ids;
import dev.editforge.text.Json;
import dev.editforge.text.SelfEditPrompts;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * SEAL's synthetic-data files ({@code make_squad_data.py} output such as {@code base_val.json}): a
 * JSON array of articles {@code {title, context, questions: [{question, answer}], completions:
 * [self-edit, ...], prompt}}, read into editforge's {@code articles} and {@code self_edits} rows
 * without generating anything.
 *
 * <p>Ids match editforge's own: article = {@code Ids.of("article", title, context)} and question =
 * {@code Ids.of(article, question, index)} as ingest writes them for the same SEAL file; edit =
 * {@code Ids.of(article, sample index, completion)}. A completion's sample index is its position in
 * {@code completions} (SEAL's generation order, which best-k ties follow). The prompt key is the
 * template whose rendering for the article equals the file's {@code prompt} byte for byte ({@code
 * implications} for SEAL's own runs), else {@value #IMPORTED}. An article repeated with the same
 * title and context keeps its first occurrence; the repeat and its completions count as duplicates.
 * Pure; thread-safe.
 */
public final class SealSyntheticData {
  public static final String IMPORTED = "imported";

  private SealSyntheticData() {}

  public record Question(String questionId, String question, List<String> answers) {}

  public record Article(String articleId, String title, String context, List<Question> questions) {}

  public record Edit(
      String editId,
      String articleId,
      String promptKey,
      String prompt,
      String completion,
      int sampleIndex) {}

  public record Import(
      List<Article> articles, List<Edit> edits, int duplicateArticles, int duplicateEdits) {}

  /** Reads the whole file; a malformed article fails with its position ({@code where[i].field}). */
  public static Import read(InputStream in, String where, SelfEditPrompts prompts)
      throws IOException {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(in);
    } catch (IOException e) {
      throw new IOException(where + " is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isArray()) {
      throw new IOException(
          where + " is not a SEAL synthetic-data file (a JSON array of articles)");
    }
    List<Article> articles = new ArrayList<>();
    List<Edit> edits = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    int duplicateArticles = 0;
    int duplicateEdits = 0;
    for (int i = 0; i < root.size(); i++) {
      String at = where + "[" + i + "]";
      JsonNode a = root.get(i);
      if (!a.isObject()) {
        throw new IOException(at + " is not an object");
      }
      String title = text(a, "title", at);
      String context = text(a, "context", at);
      String prompt = text(a, "prompt", at);
      JsonNode completions = array(a, "completions", at);
      String articleId = Ids.of("article", title, context);
      if (!seen.add(articleId)) {
        duplicateArticles++;
        duplicateEdits += completions.size();
        continue;
      }
      List<Question> questions = new ArrayList<>();
      JsonNode qs = array(a, "questions", at);
      for (int q = 0; q < qs.size(); q++) {
        String qat = at + ".questions[" + q + "]";
        String question = text(qs.get(q), "question", qat);
        List<String> answers = new ArrayList<>();
        if (qs.get(q).has("answers")) {
          JsonNode as = array(qs.get(q), "answers", qat);
          for (int k = 0; k < as.size(); k++) {
            if (!as.get(k).isTextual()) {
              throw new IOException(qat + ".answers[" + k + "] is not a string");
            }
            answers.add(as.get(k).asText());
          }
        } else {
          answers.add(text(qs.get(q), "answer", qat));
        }
        questions.add(
            new Question(
                Ids.of(articleId, question, Integer.toString(q)), question, List.copyOf(answers)));
      }
      articles.add(new Article(articleId, title, context, List.copyOf(questions)));
      String key = promptKey(prompts, title, context, prompt);
      for (int s = 0; s < completions.size(); s++) {
        if (!completions.get(s).isTextual()) {
          throw new IOException(at + ".completions[" + s + "] is not a string");
        }
        String completion = completions.get(s).asText();
        edits.add(
            new Edit(
                Ids.of(articleId, Integer.toString(s), completion),
                articleId,
                key,
                prompt,
                completion,
                s));
      }
    }
    return new Import(List.copyOf(articles), List.copyOf(edits), duplicateArticles, duplicateEdits);
  }

  /**
   * The first template (built-ins first) that renders exactly {@code prompt}, else {@value
   * #IMPORTED}.
   */
  public static String promptKey(
      SelfEditPrompts prompts, String title, String context, String prompt) {
    for (String key : prompts.keys()) {
      if (prompts.render(key, title, context).equals(prompt)) {
        return key;
      }
    }
    return IMPORTED;
  }

  private static String text(JsonNode n, String field, String where) throws IOException {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new IOException(where + ": \"" + field + "\" missing or not a string");
    }
    return v.asText();
  }

  private static JsonNode array(JsonNode n, String field, String where) throws IOException {
    JsonNode v = n.get(field);
    if (v == null || !v.isArray()) {
      throw new IOException(where + ": \"" + field + "\" missing or not an array");
    }
    return v;
  }
}
