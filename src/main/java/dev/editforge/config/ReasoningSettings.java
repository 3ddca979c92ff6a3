package dev.editforge.config;

import dev.editforge.text.AnswerVoting;
import dev.editforge.text.LogicSftRecipe;
import dev.editforge.text.ReasoningPrompts;
import java.util.List;
import java.util.Map;

/**
 * {@code editforge.generate.reasoning}: which prompts write and frame reasoning traces, how the
 * answer is read back, how many samples vote per question, and the share of traces that may carry
 * an error before the reasoning part of generate fails with exit 3. {@code recipe} {@code
 * logic-sft} replaces the prompts by seed 004's ({@link LogicSftRecipe}) in generate and select;
 * {@code stop} are the strings that end a trace (unset: the recipe's cut strings).
 */
public record ReasoningSettings(
    String teacherPrompt,
    String studentPrompt,
    Map<String, String> templates,
    List<String> answerPatterns,
    boolean lastLineOnly,
    int samples,
    MaxErrorFraction maxErrorFraction,
    String recipe,
    List<String> stop) {

  /** Today's prompts: teacher-prompt / student-prompt templates, user role only. */
  public static final String DEFAULT_RECIPE = "default";

  /** The recipes of {@code generate.reasoning.recipe}. */
  public static final List<String> RECIPES = List.of(DEFAULT_RECIPE, LogicSftRecipe.NAME);

  public ReasoningSettings {
    templates = Map.copyOf(templates);
    answerPatterns = List.copyOf(answerPatterns);
    stop = List.copyOf(stop);
  }

  /** True when traces follow seed 004's logic-sft recipe ({@link LogicSftRecipe}). */
  public boolean logicSft() {
    return LogicSftRecipe.NAME.equals(recipe);
  }

  public static ReasoningSettings from(ConfigReader r) {
    Map<String, String> templates = r.stringMap("templates");
    ReasoningPrompts prompts;
    try {
      prompts = new ReasoningPrompts(templates);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(r.full("templates"), null, e.getMessage());
    }
    String teacher = r.oneOf("teacher-prompt", prompts.keys());
    if (!prompts.usesAnswer(teacher)) {
      throw new SettingsException(
          r.full("teacher-prompt"), teacher, "a teacher prompt must show the answer with {answer}");
    }
    String student = r.oneOf("student-prompt", prompts.keys());
    if (prompts.usesAnswer(student)) {
      throw new SettingsException(
          r.full("student-prompt"), student, "a student prompt must not show the answer");
    }
    List<String> patterns = r.strings("answer-patterns");
    boolean lastLineOnly = r.bool("last-line-only");
    try {
      new AnswerVoting(patterns, lastLineOnly);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(r.full("answer-patterns"), patterns, e.getMessage());
    }
    String recipe = r.has("recipe") ? r.oneOf("recipe", RECIPES) : DEFAULT_RECIPE;
    // Unset: the recipe's own cut strings (none for the default recipe).
    List<String> stop =
        r.has("stop")
            ? r.strings("stop")
            : LogicSftRecipe.NAME.equals(recipe) ? LogicSftRecipe.CUT_AT : List.of();
    if (stop.stream().anyMatch(String::isEmpty)) {
      throw new SettingsException(r.full("stop"), stop, "a stop string must not be empty");
    }
    return new ReasoningSettings(
        teacher,
        student,
        templates,
        patterns,
        lastLineOnly,
        r.integer("samples", 1, 1000),
        MaxErrorFraction.read(r, "max-error-fraction"),
        recipe,
        stop);
  }

  public ReasoningPrompts prompts() {
    return new ReasoningPrompts(templates);
  }

  public AnswerVoting voting() {
    return new AnswerVoting(answerPatterns, lastLineOnly);
  }
}
