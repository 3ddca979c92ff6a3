package dev.editforge.llm;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
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
 */
public final class ChatTemplate {
  /** A template that refused the conversation (raise_exception) or failed to render. */
  public static final class ChatTemplateException extends IllegalArgumentException {
    public ChatTemplateException(String message) {
      super(message);
    }
  }

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

  private ChatTemplate(String name, String source, String bosToken, String eosToken) {
    this.name = name;
    this.source = source;
    this.adapted = adaptToJinjava(source);
    this.bosToken = bosToken == null ? "" : bosToken;
    this.eosToken = eosToken == null ? "" : eosToken;
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
    RenderResult result = JINJAVA.renderForResult(adapted, bindings);
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
            .build();
    Jinjava jinjava = new Jinjava(config);
    jinjava
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    return jinjava;
  }
}
