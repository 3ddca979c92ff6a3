package dev.editforge.llm;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaProcessors;
import com.hubspot.jinjava.interpret.CollectionTooBigException;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.OutputTooBigException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.loader.ResourceLocator;
import com.hubspot.jinjava.loader.ResourceNotFoundException;
import com.hubspot.jinjava.tree.Node;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A conversation-to-prompt renderer: the Jinja {@code chat_template} of a model's
 * tokenizer_config.json, or one of the named built-ins ({@link #BUILT_IN_NAMES}) for base models or
 * to override the model's own. Rendered with Jinjava configured like Hugging Face's environment
 * (trim_blocks, lstrip_blocks, filters binding tighter than {@code +}), with {@code messages},
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token} and a {@code
 * raise_exception(msg)} that makes {@link #render} throw {@link ChatTemplateException} with the
 * template's own message. Immutable and thread-safe.
 *
 * <p>A model's template is code from whoever published the model, so every render is sandboxed
 * (issue 17): it may take at most {@link #timeLimit()} ({@link #DEFAULT_TIME_LIMIT} unless {@link
 * #withTimeLimit} says otherwise), produce at most {@link #MAX_OUTPUT_CHARS} characters (also the
 * bound on any string it builds), build no list or map over {@link #MAX_COLLECTION_SIZE} entries,
 * and include, import or extend no other template: Jinjava's default loader reads the classpath,
 * where {@code core-default.xml} (and on a cluster {@code core-site.xml}, with its credentials)
 * lives. Going over a limit throws {@link LimitExceeded}, a {@link ChatTemplateException}: the one
 * request fails with that reason and the others go on; {@link #checkUsable} lets a caller refuse a
 * template that goes over a limit for even the smallest conversation before any request is sent.
 */
public final class ChatTemplate {
  /** A template that refused the conversation (raise_exception) or failed to render. */
  public static class ChatTemplateException extends IllegalArgumentException {
    public ChatTemplateException(String message) {
      super(message);
    }
  }

  /** A render that went over a sandbox limit: time, output size, collection size or an include. */
  public static final class LimitExceeded extends ChatTemplateException {
    public LimitExceeded(String message) {
      super(message);
    }
  }

  /**
   * Real chat templates render in milliseconds; nested loops in a hostile one ran for minutes. Five
   * seconds leaves room for a GC pause on a loaded executor.
   */
  public static final Duration DEFAULT_TIME_LIMIT = Duration.ofSeconds(5);

  /**
   * 4 Mi characters: about a million tokens, more than any model's context window, so no legitimate
   * prompt is cut off, while a runaway loop stops long before it can exhaust an executor's heap.
   */
  public static final long MAX_OUTPUT_CHARS = 4L << 20;

  /** A conversation is a handful of messages; a bigger list or map is a runaway template. */
  public static final int MAX_COLLECTION_SIZE = 100_000;

  public static final List<String> BUILT_IN_NAMES =
      List.of("chatml", "alpaca", "vicuna", "llama2", "gemma", "plain");

  private static final String CHATML =
      "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
          + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  private static final String ALPACA =
      "{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] + '\\n\\n' }}"
          + "{% else %}{{ 'Below is an instruction that describes a task. Write a response that appropriately completes the request.\\n\\n' }}{% endif %}"
          + "{% for message in messages %}"
          + "{% if message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}"
          + "{% elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] + '\\n\\n' }}{% endif %}"
          + "{% endfor %}{% if add_generation_prompt %}{{ '### Response:\\n' }}{% endif %}";

  /**
   * FastChat's vicuna_v1.1 separators: a space after user turns, {@code </s>} after assistant
   * turns.
   */
  private static final String VICUNA =
      "{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] + ' ' }}"
          + "{% else %}{{ 'A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user\\'s questions. ' }}{% endif %}"
          + "{% for message in messages %}"
          + "{% if message['role'] == 'user' %}{{ 'USER: ' + message['content'] + ' ' }}"
          + "{% elif message['role'] == 'assistant' %}{{ 'ASSISTANT: ' + message['content'] + eos_token }}{% endif %}"
          + "{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";

  /** Meta's Llama 2 chat format: the system prompt sits inside the first [INST] block. */
  private static final String LLAMA2 =
      "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}{% set loop_messages = messages[1:] %}"
          + "{% else %}{% set system = '' %}{% set loop_messages = messages %}{% endif %}"
          + "{% for message in loop_messages %}"
          + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
          + "{% if message['role'] == 'user' %}"
          + "{% if loop.index0 == 0 and system != '' %}{% set content = '<<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' + message['content'] %}"
          + "{% else %}{% set content = message['content'] %}{% endif %}"
          + "{{ bos_token + '[INST] ' + content | trim + ' [/INST]' }}"
          + "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] | trim + ' ' + eos_token }}{% endif %}"
          + "{% endfor %}";

  /** Gemma has no system role: a system message is prefixed to the first user turn. */
  private static final String GEMMA =
      "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] + '\\n\\n' %}{% set loop_messages = messages[1:] %}"
          + "{% else %}{% set system = '' %}{% set loop_messages = messages %}{% endif %}"
          + "{% for message in loop_messages %}"
          + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
          + "{% if message['role'] == 'assistant' %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
          + "{% if loop.index0 == 0 %}{% set content = system + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
          + "{{ '<start_of_turn>' + role + '\\n' + content | trim + '<end_of_turn>\\n' }}"
          + "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}";

  /** For base models: the contents, one per line, with no role markup. */
  private static final String PLAIN =
      "{% for message in messages %}{{ message['content'] + '\\n' }}{% endfor %}";

  private static final Jinjava JINJAVA = newJinjava();

  /**
   * {@code not x is test}: Jinja reads {@code not (x is test)}, Jinjava {@code (not x) is test}.
   */
  private static final Pattern NOT_IS =
      Pattern.compile(
          "\\bnot\\s+([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*|\\[[^\\]'\"]*\\])*)\\s+is\\s+((?:not\\s+)?[A-Za-z_]+)\\b");

  private final String name;
  private final String source;
  private final String adapted;
  private final String bosToken;
  private final String eosToken;
  private final Duration timeLimit;

  /** The render deadline (System.nanoTime) of the calling thread while it renders, else null. */
  private static final ThreadLocal<Long> DEADLINE = new ThreadLocal<>();

  private ChatTemplate(
      String name, String source, String bosToken, String eosToken, Duration timeLimit) {
    this.name = name;
    this.source = source;
    this.adapted = adaptToJinjava(source);
    this.bosToken = bosToken == null ? "" : bosToken;
    this.eosToken = eosToken == null ? "" : eosToken;
    if (timeLimit.isNegative() || timeLimit.isZero()) {
      throw new IllegalArgumentException("a chat template's time limit must be positive");
    }
    this.timeLimit = timeLimit;
  }

  private ChatTemplate(String name, String source, String bosToken, String eosToken) {
    this(name, source, bosToken, eosToken, DEFAULT_TIME_LIMIT);
  }

  /** A model's own template (the {@code chat_template} string of tokenizer_config.json). */
  public static ChatTemplate of(String source, String bosToken, String eosToken) {
    return new ChatTemplate("model", source, bosToken, eosToken);
  }

  /**
   * A built-in by name ({@link #BUILT_IN_NAMES}); special tokens come from the model's tokenizer.
   */
  public static ChatTemplate builtIn(String name, String bosToken, String eosToken) {
    String src =
        switch (name) {
          case "chatml" -> CHATML;
          case "alpaca" -> ALPACA;
          case "vicuna" -> VICUNA;
          case "llama2" -> LLAMA2;
          case "gemma" -> GEMMA;
          case "plain" -> PLAIN;
          default ->
              throw new IllegalArgumentException(
                  "unknown chat template \""
                      + name
                      + "\"; built-ins are "
                      + String.join(", ", BUILT_IN_NAMES)
                      + ", or \"model\" for the model's own");
        };
    String bos = bosToken;
    String eos = eosToken;
    if (name.equals("gemma") && (bos == null || bos.isEmpty())) {
      bos = "<bos>";
    }
    if (name.equals("llama2") || name.equals("vicuna")) {
      bos = bos == null || bos.isEmpty() ? "<s>" : bos;
      eos = eos == null || eos.isEmpty() ? "</s>" : eos;
    }
    return new ChatTemplate(name, src, bos, eos);
  }

  /** {@code model} for a model's own template, else the built-in's name. */
  public String name() {
    return name;
  }

  public String source() {
    return source;
  }

  /** How long one render may take. */
  public Duration timeLimit() {
    return timeLimit;
  }

  /** This template with another render time limit. */
  public ChatTemplate withTimeLimit(Duration limit) {
    return new ChatTemplate(name, source, bosToken, eosToken, limit);
  }

  /**
   * Renders the smallest conversation there is (one user message, with the generation prompt) and
   * throws {@link LimitExceeded} when that already goes over a sandbox limit: such a template is
   * unusable for every prompt, so a caller refuses it before sending any. Other failures (e.g. a
   * raise_exception about the conversation's shape) are left to each request.
   */
  public void checkUsable() {
    try {
      render(List.of(ChatMessage.user("Hello")), true);
    } catch (LimitExceeded e) {
      throw e;
    } catch (ChatTemplateException e) {
      // a property of the conversation, not of the template: each request reports it
    }
  }

  /**
   * Renders {@code messages}; throws {@link ChatTemplateException} when the template refuses them.
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    return render(messages, addGenerationPrompt, Map.of());
  }

  /** As {@link #render(List, boolean)} with extra template variables (e.g. {@code date_string}). */
  public String render(
      List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
    if (messages.isEmpty()) {
      throw new ChatTemplateException("chat template " + name + ": no messages to render");
    }
    List<Map<String, Object>> msgs = new ArrayList<>();
    for (ChatMessage m : messages) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("role", m.role());
      entry.put("content", m.content());
      msgs.add(entry);
    }
    Map<String, Object> bindings = new LinkedHashMap<>(extra);
    bindings.put("messages", msgs);
    bindings.put("add_generation_prompt", addGenerationPrompt);
    bindings.put("bos_token", bosToken);
    bindings.put("eos_token", eosToken);
    RenderResult result;
    DEADLINE.set(System.nanoTime() + timeLimit.toNanos());
    try {
      result = JINJAVA.renderForResult(adapted, bindings);
    } finally {
      DEADLINE.remove();
    }
    for (TemplateError e : result.getErrors()) {
      String limit = limitMessage(e);
      if (limit != null) {
        throw new LimitExceeded("chat template " + name + " " + limit);
      }
    }
    for (TemplateError e : result.getErrors()) {
      String raised = raisedMessage(e);
      if (raised != null) {
        throw new ChatTemplateException(
            "chat template " + name + " refused the conversation: " + raised);
      }
    }
    for (TemplateError e : result.getErrors()) {
      if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new ChatTemplateException(
            "chat template " + name + " failed at line " + e.getLineno() + ": " + e.getMessage());
      }
    }
    return result.getOutput();
  }

  /**
   * Rewrites what Jinjava parses differently from Jinja, inside tags and outside string literals
   * only: {@code not x is defined} becomes {@code not (x is defined)}.
   */
  static String adaptToJinjava(String template) {
    StringBuilder out = new StringBuilder(template.length() + 16);
    int i = 0;
    while (i < template.length()) {
      int open = indexOfTag(template, i);
      if (open < 0) {
        out.append(template, i, template.length());
        break;
      }
      String close = template.charAt(open + 1) == '%' ? "%}" : "}}";
      int end = template.indexOf(close, open + 2);
      if (end < 0) {
        out.append(template, i, template.length());
        break;
      }
      out.append(template, i, open + 2);
      out.append(adaptCode(template.substring(open + 2, end)));
      out.append(close);
      i = end + 2;
    }
    return out.toString();
  }

  private static int indexOfTag(String s, int from) {
    int a = s.indexOf("{%", from);
    int b = s.indexOf("{{", from);
    return a < 0 ? b : b < 0 ? a : Math.min(a, b);
  }

  /** Applies {@link #NOT_IS} to the parts of a tag's code that are not quoted strings. */
  private static String adaptCode(String code) {
    StringBuilder out = new StringBuilder(code.length() + 8);
    StringBuilder plain = new StringBuilder();
    int i = 0;
    while (i < code.length()) {
      char c = code.charAt(i);
      if (c == '\'' || c == '"') {
        out.append(NOT_IS.matcher(plain).replaceAll("not ($1 is $2)"));
        plain.setLength(0);
        int j = i + 1;
        while (j < code.length() && code.charAt(j) != c) {
          j += code.charAt(j) == '\\' ? 2 : 1;
        }
        j = Math.min(j + 1, code.length());
        out.append(code, i, j);
        i = j;
      } else {
        plain.append(c);
        i++;
      }
    }
    out.append(NOT_IS.matcher(plain).replaceAll("not ($1 is $2)"));
    return out.toString();
  }

  /** What sandbox limit {@code e} reports (as the end of a sentence), or null for another error. */
  private String limitMessage(TemplateError e) {
    for (Throwable t = e.getException(); t != null; t = t.getCause()) {
      if (t instanceof RenderTimeLimit) {
        return "ran past its render time limit of "
            + timeLimit.toMillis()
            + " ms (runaway loops?) and was stopped";
      }
      if (t instanceof OutputTooBigException || t instanceof CollectionTooBigException) {
        return "went over its size limit ("
            + MAX_OUTPUT_CHARS
            + " characters of output or string, "
            + MAX_COLLECTION_SIZE
            + " entries in a list or map): "
            + t.getMessage();
      }
      if (t instanceof IncludeRefused) {
        return "tried to load another template: " + IncludeRefused.detail(t.getMessage());
      }
    }
    String msg = e.getMessage() == null ? "" : e.getMessage();
    if (msg.contains(RenderTimeLimit.MARKER)) {
      return "ran past its render time limit of " + timeLimit.toMillis() + " ms and was stopped";
    }
    if (msg.contains(IncludeRefused.MARKER)) {
      return "tried to load another template: " + IncludeRefused.detail(msg);
    }
    if (e.getReason() == TemplateError.ErrorReason.OUTPUT_TOO_BIG
        || e.getReason() == TemplateError.ErrorReason.COLLECTION_TOO_BIG) {
      return "went over its size limit: " + msg;
    }
    return null;
  }

  /** Thrown between two nodes of a render that is past its deadline; Jinjava stops there. */
  static final class RenderTimeLimit extends RuntimeException {
    static final String MARKER = "[render time limit]";

    RenderTimeLimit() {
      super(MARKER);
    }
  }

  /**
   * Jinjava calls this before rendering every node (tag, expression, text) of every loop pass, so a
   * runaway loop meets the deadline within one iteration.
   */
  private static void checkDeadline(Node node, JinjavaInterpreter interpreter) {
    Long deadline = DEADLINE.get();
    if (deadline != null && System.nanoTime() - deadline > 0) {
      throw new RenderTimeLimit();
    }
  }

  /** Jinjava's loader for include, import, from and extends: every name is refused. */
  private static final class NoIncludes implements ResourceLocator {
    @Override
    public String getString(String fullName, Charset encoding, JinjavaInterpreter interpreter)
        throws ResourceNotFoundException {
      throw new IncludeRefused(fullName);
    }
  }

  /** Why an include, import or extends found nothing: chat templates load no other template. */
  static final class IncludeRefused extends ResourceNotFoundException {
    static final String MARKER = "[no includes]";

    IncludeRefused(String name) {
      super(
          MARKER
              + " '"
              + name
              + "' was not loaded: chat templates may not include, import or extend other "
              + "templates (nothing from the classpath or the filesystem)");
    }

    /** The part of a message after the marker. */
    static String detail(String message) {
      return message.substring(message.indexOf(MARKER) + MARKER.length()).trim();
    }
  }

  private static String raisedMessage(TemplateError e) {
    for (Throwable t = e.getException(); t != null; t = t.getCause()) {
      if (t instanceof RaisedByTemplate r) {
        return r.getMessage();
      }
    }
    String msg = e.getMessage();
    if (msg != null && msg.contains(RaisedByTemplate.MARKER)) {
      int at = msg.indexOf(RaisedByTemplate.MARKER) + RaisedByTemplate.MARKER.length();
      return msg.substring(at).trim();
    }
    return null;
  }

  /** Thrown inside Jinjava by {@code raise_exception}; Jinjava records it as a template error. */
  static final class RaisedByTemplate extends RuntimeException {
    static final String MARKER = "[raise_exception]";

    RaisedByTemplate(String message) {
      super(message);
    }

    @Override
    public String toString() {
      return MARKER + " " + getMessage();
    }
  }

  /** Bound to {@code raise_exception} in every template. */
  public static String raiseException(String message) {
    throw new RaisedByTemplate(message);
  }

  private static Jinjava newJinjava() {
    LegacyOverrides overrides =
        LegacyOverrides.newBuilder()
            .withUseNaturalOperatorPrecedence(true)
            .withParseWhitespaceControlStrictly(true)
            .withUseTrimmingForNotesAndExpressions(true)
            .withKeepNullableLoopValues(true)
            .build();
    JinjavaConfig config =
        JinjavaConfig.newBuilder()
            .withTrimBlocks(true)
            .withLstripBlocks(true)
            .withLegacyOverrides(overrides)
            .withMaxOutputSize(MAX_OUTPUT_CHARS)
            .withMaxStringLength(MAX_OUTPUT_CHARS)
            .withMaxListSize(MAX_COLLECTION_SIZE)
            .withMaxMapSize(MAX_COLLECTION_SIZE)
            .withProcessors(
                JinjavaProcessors.newBuilder()
                    .withNodePreProcessor(ChatTemplate::checkDeadline)
                    .build())
            .build();
    Jinjava jinjava = new Jinjava(config);
    jinjava.setResourceLocator(new NoIncludes());
    jinjava
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    return jinjava;
  }
}
