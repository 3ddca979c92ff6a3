package dev.editforge.llm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes small random-weight decoders in real Hugging Face layout for tests: {@code config.json},
 * {@code generation_config.json}, {@code model.safetensors}, a real {@code tokenizer.json} that
 * DJL's tokenizers load, and {@code tokenizer_config.json} with the family's real chat template.
 *
 * <ul>
 *   <li>{@link #llama}: Llama 3 style: byte-level BPE, {@code <|begin_of_text|>} prepended by the
 *       post-processor, Llama 3 Instruct chat template, tied embeddings.
 *   <li>{@link #qwen2}: Qwen2.5 style: byte-level BPE, no BOS, q/k/v bias, ChatML (Qwen2.5's real
 *       template), untied lm_head.
 *   <li>{@link #mistral}: SentencePiece style (▁ word prefix, byte fallback, {@code <s>} added per
 *       {@code add_bos_token}), Mistral Instruct v0.1 template, sliding window.
 * </ul>
 *
 * Writing a {@link Size#TINY} model takes milliseconds. Weights depend only on the seed.
 */
public final class TinyModels {
  private TinyModels() {}

  public enum Family {
    LLAMA,
    QWEN2,
    MISTRAL
  }

  /**
   * Model sizes: {@code TINY} for logic tests, {@code SMALL} when some capacity matters (training).
   */
  public enum Size {
    TINY(64, 128, 2, 4, 2, 16),
    SMALL(128, 256, 3, 8, 2, 16);

    final int hidden;
    final int intermediate;
    final int layers;
    final int heads;
    final int kvHeads;
    final int headDim;

    Size(int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim) {
      this.hidden = hidden;
      this.intermediate = intermediate;
      this.layers = layers;
      this.heads = heads;
      this.kvHeads = kvHeads;
      this.headDim = headDim;
    }
  }

  /** Qwen2.5-Instruct's chat_template, verbatim. */
  public static final String QWEN25_CHAT_TEMPLATE =
"""
{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
""";

  /** Meta-Llama-3-8B-Instruct's chat_template, verbatim. */
  public static final String LLAMA3_CHAT_TEMPLATE =
      "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>'"
          + " + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
          + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
          + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

  /** Mistral-7B-Instruct-v0.1's chat_template, verbatim. */
  public static final String MISTRAL_CHAT_TEMPLATE =
      "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
          + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
          + "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
          + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
          + "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

  public static Path llama(Path dir, Size size, long seed) {
    return write(dir, Family.LLAMA, config(Family.LLAMA, size), seed);
  }

  public static Path qwen2(Path dir, Size size, long seed) {
    return write(dir, Family.QWEN2, config(Family.QWEN2, size), seed);
  }

  public static Path mistral(Path dir, Size size, long seed) {
    return write(dir, Family.MISTRAL, config(Family.MISTRAL, size), seed);
  }

  /**
   * The config {@link #llama} etc. use; change it (ModelConfig's {@code with...}) and pass it to
   * {@link #write}.
   */
  public static ModelConfig config(Family family, Size size) {
    TinyTokenizerWriter.Vocab v = vocab(family);
    int vocabSize = (v.size() + 15) / 16 * 16;
    return switch (family) {
      case LLAMA ->
          new ModelConfig(
              "llama",
              vocabSize,
              size.hidden,
              size.intermediate,
              size.layers,
              size.heads,
              size.kvHeads,
              size.headDim,
              1e-5,
              500000.0,
              null,
              256,
              true,
              false,
              false,
              false,
              0,
              v.id("<|begin_of_text|>"),
              List.of(v.id("<|end_of_text|>"), v.id("<|eot_id|>")));
      case QWEN2 ->
          new ModelConfig(
              "qwen2",
              vocabSize,
              size.hidden,
              size.intermediate,
              size.layers,
              size.heads,
              size.kvHeads,
              size.headDim,
              1e-6,
              1000000.0,
              null,
              256,
              false,
              true,
              false,
              false,
              0,
              v.id("<|endoftext|>"),
              List.of(v.id("<|im_end|>"), v.id("<|endoftext|>")));
      case MISTRAL ->
          new ModelConfig(
              "mistral",
              vocabSize,
              size.hidden,
              size.intermediate,
              size.layers,
              size.heads,
              size.kvHeads,
              size.headDim,
              1e-5,
              10000.0,
              null,
              256,
              false,
              false,
              false,
              false,
              4096,
              v.id("<s>"),
              List.of(v.id("</s>")));
    };
  }

  /** Writes a model of {@code family}'s tokenizer and template with architecture {@code config}. */
  public static Path write(Path dir, Family family, ModelConfig config, long seed) {
    RandomDecoderWriter.write(dir, config, seed);
    String bos =
        family == Family.MISTRAL ? "<s>" : family == Family.LLAMA ? "<|begin_of_text|>" : null;
    TinyTokenizerWriter.write(dir, vocab(family), family == Family.QWEN2, bos, true);
    ObjectMapper json = new ObjectMapper();
    try {
      json.writerWithDefaultPrettyPrinter()
          .writeValue(dir.resolve("tokenizer_config.json").toFile(), tokenizerConfig(family));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  private static TinyTokenizerWriter.Vocab vocab(Family family) {
    return switch (family) {
      case LLAMA ->
          TinyTokenizerWriter.byteLevel(
              List.of(
                  "<|begin_of_text|>",
                  "<|end_of_text|>",
                  "<|start_header_id|>",
                  "<|end_header_id|>",
                  "<|eot_id|>"));
      case QWEN2 ->
          TinyTokenizerWriter.byteLevel(List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>"));
      case MISTRAL -> TinyTokenizerWriter.sentencePiece(List.of("<unk>", "<s>", "</s>"));
    };
  }

  private static ObjectNode tokenizerConfig(Family family) {
    ObjectNode c = new ObjectMapper().createObjectNode();
    switch (family) {
      case LLAMA -> {
        c.put("bos_token", "<|begin_of_text|>");
        c.put("eos_token", "<|eot_id|>");
        c.putNull("pad_token");
        c.put("chat_template", LLAMA3_CHAT_TEMPLATE);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
      }
      case QWEN2 -> {
        c.putNull("bos_token");
        c.put("eos_token", "<|im_end|>");
        c.put("pad_token", "<|endoftext|>");
        c.put("chat_template", QWEN25_CHAT_TEMPLATE);
        c.put("tokenizer_class", "Qwen2Tokenizer");
      }
      case MISTRAL -> {
        c.put("add_bos_token", true);
        c.put("add_eos_token", false);
        c.put("bos_token", "<s>");
        c.put("eos_token", "</s>");
        c.put("unk_token", "<unk>");
        c.putNull("pad_token");
        c.put("chat_template", MISTRAL_CHAT_TEMPLATE);
        c.put("tokenizer_class", "LlamaTokenizer");
      }
      default -> throw new IllegalStateException();
    }
    c.put("model_max_length", 256);
    return c;
  }
}
