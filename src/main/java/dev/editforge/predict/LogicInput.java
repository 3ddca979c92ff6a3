package dev.editforge.predict;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.io.UnusableInputException;
import dev.editforge.text.Json;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The problems {@code editforge predict} answers, kept in the input's own shape so that the
 * submission is the input with an {@code answer} on every question: one JSON object per line,
 * {@code {"problem": ..., "questions": [{"question": ..., "options": [...]}, ...], ...}}, any other
 * fields (the competition's {@code id}) carried through untouched and in their order. A line the
 * recipe cannot answer stops the command before any model is loaded (exit 2, naming the line, the
 * id and the field). Pure; thread-safe.
 */
public final class LogicInput {
  /** One question to answer: where it sits in the input, and what the prompt needs. */
  public record Question(
      int problemIndex,
      int questionIndex,
      String problemId,
      String problem,
      String question,
      List<String> options)
      implements Serializable {
    public Question {
      options = List.copyOf(options);
    }

    /** The question's stable key, e.g. {@code round1_test_data_000#0}. */
    public String key() {
      return problemId + "#" + questionIndex;
    }
  }

  private final String source;
  private final List<ObjectNode> problems;
  private final List<Question> questions;

  private LogicInput(String source, List<ObjectNode> problems, List<Question> questions) {
    this.source = source;
    this.problems = problems;
    this.questions = questions;
  }

  /**
   * Parses the JSONL text of {@code source} (its name, for messages); blank lines are skipped.
   *
   * @throws UnusableInputException at the first line that is not an answerable problem
   */
  public static LogicInput parse(String source, String text) {
    List<ObjectNode> problems = new ArrayList<>();
    List<Question> questions = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n].strip();
      if (line.isEmpty()) {
        continue;
      }
      String at = source + " line " + (n + 1);
      JsonNode node;
      try {
        node = Json.COMPACT.readTree(line);
      } catch (JsonProcessingException e) {
        throw bad(at, "is not JSON (" + e.getOriginalMessage() + ")");
      }
      if (!(node instanceof ObjectNode o)) {
        throw bad(at, "is not a JSON object");
      }
      JsonNode idNode = o.get("id");
      String id =
          idNode != null && idNode.isValueNode() && !idNode.isNull()
              ? idNode.asText()
              : "line-" + (n + 1);
      String where = idNode != null && idNode.isValueNode() ? at + " (id " + id + ")" : at;
      JsonNode qs = o.get("questions");
      if (qs == null || !qs.isArray()) {
        throw bad(
            where,
            qs == null ? "has no \"questions\" array" : "has \"questions\" that is not an array");
      }
      if (qs.isEmpty()) {
        throw bad(where, "has an empty \"questions\" array: nothing to answer");
      }
      JsonNode problem = o.get("problem");
      if (problem == null || !problem.isTextual()) {
        throw bad(where, "has no \"problem\" text");
      }
      for (int q = 0; q < qs.size(); q++) {
        String field = "questions[" + q + "]";
        JsonNode qn = qs.get(q);
        if (!qn.isObject()) {
          throw bad(where, field + " is not an object");
        }
        JsonNode question = qn.get("question");
        if (question == null || !question.isTextual()) {
          throw bad(where, field + " has no \"question\" text");
        }
        JsonNode options = qn.get("options");
        if (options == null || !options.isArray() || options.isEmpty() || options.size() > 26) {
          throw bad(where, field + " needs an \"options\" array of 1 to 26 texts");
        }
        List<String> opts = new ArrayList<>();
        for (JsonNode opt : options) {
          if (!opt.isTextual()) {
            throw bad(where, field + ".options holds a " + opt.getNodeType() + ", not a text");
          }
          opts.add(opt.asText());
        }
        questions.add(
            new Question(problems.size(), q, id, problem.asText(), question.asText(), opts));
      }
      problems.add(o);
    }
    if (problems.isEmpty()) {
      throw new UnusableInputException("predict: " + source + " holds no problems");
    }
    return new LogicInput(source, List.copyOf(problems), List.copyOf(questions));
  }

  private static UnusableInputException bad(String where, String what) {
    return new UnusableInputException(
        "predict: "
            + where
            + " "
            + what
            + "; each line must be {\"problem\": \"...\", \"questions\": [{\"question\": \"...\","
            + " \"options\": [\"...\", ...]}, ...]}");
  }

  public String source() {
    return source;
  }

  public int problemCount() {
    return problems.size();
  }

  public List<Question> questions() {
    return questions;
  }

  /**
   * The submission: every input line as it came, each question's {@code answer} set ({@code
   * answers} in {@link #questions()} order), one compact JSON object per line, non-ASCII as is.
   */
  public String submission(List<String> answers) {
    if (answers.size() != questions.size()) {
      throw new IllegalArgumentException(
          answers.size() + " answers for " + questions.size() + " questions");
    }
    List<ObjectNode> out = new ArrayList<>();
    for (ObjectNode p : problems) {
      out.add(p.deepCopy());
    }
    for (int i = 0; i < questions.size(); i++) {
      Question q = questions.get(i);
      ((ObjectNode) out.get(q.problemIndex()).get("questions").get(q.questionIndex()))
          .put("answer", answers.get(i));
    }
    StringBuilder b = new StringBuilder();
    for (ObjectNode o : out) {
      b.append(Json.compact(o)).append('\n');
    }
    return b.toString();
  }
}
