package dev.editforge.text;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The self-edit generation prompts: SEAL's five built-in templates plus user templates.
 *
 * <p>The built-ins are protocol constants: a model trained on SEAL data expects exactly these
 * bytes, so they are written out here verbatim (SEAL {@code make_squad_data.py}, {@code
 * MAKE_SQUAD_DATA_TEMPLATES_BASE}) and tested against {@code reference/seal_prompts.json} and
 * against the {@code prompt} field of every article SEAL wrote. SEAL renders them with Python's
 * {@code str.format(title=..., context=...)} on the raw title and context — no stripping — and so
 * does {@link #render}.
 *
 * <p>User templates use the same {@code {title}}/{@code {context}} fields ({@code {{}/{@code }}}
 * for literal braces); they are validated when this object is built. A user template may not reuse
 * a built-in name: silently changing what "implications" means would produce data that claims to be
 * SEAL's and is not.
 */
public final class SelfEditPrompts {
  public static final String DEFAULT_KEY = "implications";

  public static final String IMPLICATIONS =
      "Let's read the following passage and produce a list of implications "
          + "derived directly or indirectly from the content.\n\n"
          + "Passage:\n{title}\n{context}\n\n"
          + "Implications:\n";

  public static final String IMPLICATIONS_LONG =
      "Let's read the following passage and produce a long list of implications "
          + "derived directly or indirectly from the content.\n\n"
          + "Passage:\n{title}\n{context}\n\n"
          + "Implications:\n";

  public static final String IMPLICATIONS_VERY_LONG =
      "Let's read the following passage and produce a very long list of implications "
          + "derived directly or indirectly from the content.\n\n"
          + "Passage:\n{title}\n{context}\n\n"
          + "Implications:\n";

  public static final String REWRITE =
      "Let's read the following passage and rewrite it in a few different ways, each one separated by a newline.\n\n"
          + "Passage:\n{title}\n{context}\n\n"
          + "Rewritten passages:\n";

  public static final String SELF_QA =
      "Let's read the following passage and rewrite it in a question-answer format.\n\n"
          + "Passage:\n{title}\n{context}\n\n"
          + "Question 1: ";

  /** SEAL's templates by name, in SEAL's order. */
  public static final Map<String, String> BUILT_IN;

  static {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("implications", IMPLICATIONS);
    m.put("implications-long", IMPLICATIONS_LONG);
    m.put("implications-very-long", IMPLICATIONS_VERY_LONG);
    m.put("rewrite", REWRITE);
    m.put("self-qa", SELF_QA);
    BUILT_IN = Collections.unmodifiableMap(m);
  }

  private final Map<String, String> templates;

  /** Built-ins plus {@code userTemplates} (name → template text). */
  public SelfEditPrompts(Map<String, String> userTemplates) {
    Map<String, String> all = new LinkedHashMap<>(BUILT_IN);
    for (Map.Entry<String, String> e : userTemplates.entrySet()) {
      String key = e.getKey();
      if (BUILT_IN.containsKey(key)) {
        throw new IllegalArgumentException(
            "self-edit template \""
                + key
                + "\" is a built-in SEAL template and cannot be redefined; "
                + "give your template another name");
      }
      String text = e.getValue();
      if (text == null || text.isEmpty()) {
        throw new IllegalArgumentException("self-edit template \"" + key + "\" is empty");
      }
      try {
        PyText.format(text, fields("", ""));
      } catch (IllegalArgumentException bad) {
        throw new IllegalArgumentException(
            "self-edit template \"" + key + "\": " + bad.getMessage(), bad);
      }
      all.put(key, text);
    }
    this.templates = Collections.unmodifiableMap(all);
  }

  public static SelfEditPrompts builtIn() {
    return new SelfEditPrompts(Map.of());
  }

  /** Every known key: the built-ins first, then user templates in their configured order. */
  public Set<String> keys() {
    return templates.keySet();
  }

  /** The template text of {@code key}. */
  public String template(String key) {
    return NamedTemplates.lookup(templates, "self-edit", key);
  }

  /** The generation prompt for one article, exactly as SEAL formats it. */
  public String render(String key, String title, String context) {
    return PyText.format(template(key), fields(title, context));
  }

  private static Map<String, String> fields(String title, String context) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("title", title);
    m.put("context", context);
    return m;
  }
}
