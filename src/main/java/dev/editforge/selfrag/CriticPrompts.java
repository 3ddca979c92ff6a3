package dev.editforge.selfrag;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Self-RAG's critic prompts (data_creation/critic/gpt4_reward/chatgpt_*.py), demonstrations
 * included, rendered byte for byte as the Python scripts do with {@code str.format_map}. The
 * templates are resources under {@code dev/editforge/selfrag/critic/} (GPT-4 prompts) and {@code
 * critic-training/} (the instruction and input strings of the critic's training rows, {@code
 * combine_chat_gpt_reward.py}'s PROMPT_DICT); see the NOTICE there. Stateless and thread-safe.
 */
public final class CriticPrompts {
  private static final String BASE = "dev/editforge/selfrag/";
  private static final Map<String, String> CACHE = new ConcurrentHashMap<>();

  private CriticPrompts() {}

  /** {@code critic/<type>.<variant>.txt}, e.g. {@code retrieval.context}. */
  public static String template(String name) {
    return resource("critic/" + name + ".txt");
  }

  /** {@code critic-training/<key>.txt}, e.g. {@code relevance_instruction}. */
  public static String trainingPrompt(String key) {
    return resource("critic-training/" + key + ".txt");
  }

  private static String resource(String path) {
    return CACHE.computeIfAbsent(
        path,
        p -> {
          try (InputStream in =
              CriticPrompts.class.getClassLoader().getResourceAsStream(BASE + p)) {
            if (in == null) {
              throw new IllegalArgumentException("no Self-RAG prompt " + BASE + p);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /**
   * Python's {@code template.format_map(values)} for plain {@code {name}} fields: one pass, so a
   * value that itself contains {@code {evidence}} stays as it is; {@code {{}} and {@code }}} are
   * literal braces.
   *
   * @throws IllegalArgumentException for a field missing from {@code values} (Python's KeyError)
   */
  public static String format(String template, Map<String, String> values) {
    StringBuilder out = new StringBuilder(template.length() + 256);
    int i = 0;
    while (i < template.length()) {
      char c = template.charAt(i);
      if (c == '{' && i + 1 < template.length() && template.charAt(i + 1) == '{') {
        out.append('{');
        i += 2;
      } else if (c == '}' && i + 1 < template.length() && template.charAt(i + 1) == '}') {
        out.append('}');
        i += 2;
      } else if (c == '{') {
        int end = template.indexOf('}', i);
        if (end < 0) {
          throw new IllegalArgumentException("unclosed field at " + i);
        }
        String key = template.substring(i + 1, end);
        String v = values.get(key);
        if (v == null) {
          throw new IllegalArgumentException("no value for template field {" + key + "}");
        }
        out.append(v);
        i = end + 1;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  /** chatgpt_need_retrieval.py without --multi_retrieval: the 7-demonstration [Yes]/[No] prompt. */
  public static Rendered retrieval(String instruction) {
    return render("retrieval.context", Map.of("instruction", instruction));
  }

  /**
   * chatgpt_need_retrieval.py --multi_retrieval for a sentence after the first: {@code
   * _no_preceding} when there are no preceding sentences.
   *
   * @param threeWay the template with {@code [Continue to Use Evidence]} (the script's {@code
   *     --three_way}); see {@link #multiRetrievalVariant} for the script's swap
   */
  public static Rendered multiRetrieval(
      String instruction,
      String preceding,
      String evidence,
      String targetOutput,
      boolean threeWay) {
    String name = multiRetrievalVariant(threeWay, hasPreceding(preceding));
    return render(
        name,
        Map.of(
            "instruction",
            instruction,
            "preceding_sentences",
            preceding == null ? "" : preceding,
            "evidence",
            evidence,
            "target_output",
            targetOutput));
  }

  /** The multi-retrieval template name for a three-way (or two-way) prompt. */
  public static String multiRetrievalVariant(boolean threeWay, boolean preceding) {
    return "retrieval.multi_retrieval"
        + (threeWay ? "_three_way" : "")
        + (preceding ? "" : "_no_preceding");
  }

  /** chatgpt_relevance.py: {@code multi} or {@code multi_no_preceding} (demonstrations differ). */
  public static Rendered relevance(String instruction, String evidence, boolean preceding) {
    return render(
        preceding ? "relevance.multi" : "relevance.multi_no_preceding",
        Map.of("instruction", instruction, "evidence", evidence));
  }

  /** chatgpt_groundness.py --multi: one output sentence against one passage. */
  public static Rendered support(
      String instruction, String preceding, String targetOutput, String evidence) {
    boolean p = hasPreceding(preceding);
    return render(
        p ? "groundness.multi" : "groundness.multi_no_preceding",
        Map.of(
            "instruction",
            instruction,
            "preceding_sentences",
            preceding == null ? "" : preceding,
            "target_output",
            targetOutput,
            "evidence",
            evidence));
  }

  /** chatgpt_groundness.py without --multi: the whole output against one passage (1-5 scale). */
  public static Rendered supportWhole(String instruction, String output, String evidence) {
    return render(
        "groundness.context",
        Map.of("instruction", instruction, "output", output, "evidence", evidence));
  }

  /**
   * chatgpt_utility.py: the instruction, with the input appended after a space when it is longer
   * than one character, as the script does.
   */
  public static Rendered utility(String instruction, String input, String output) {
    String full = input != null && input.length() > 1 ? instruction + " " + input : instruction;
    return render("utility.context", Map.of("instruction", full, "output", output));
  }

  /**
   * Whether a sentence has preceding sentences to show: none or empty picks {@code _no_preceding}.
   */
  public static boolean hasPreceding(String preceding) {
    return preceding != null && !preceding.isEmpty();
  }

  /** Self-RAG's passage text, {@code title + "\n" + text}, as every evidence field shows it. */
  public static String evidence(String title, String text) {
    return title + "\n" + text;
  }

  private static Rendered render(String name, Map<String, String> values) {
    return new Rendered(name, format(template(name), values));
  }

  /** A prompt and the name of the template it came from. */
  public record Rendered(String template, String prompt) {}
}
