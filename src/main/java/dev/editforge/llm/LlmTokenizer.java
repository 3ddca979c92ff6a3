package dev.editforge.llm;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model's tokenizer: {@code tokenizer.json} through DJL's Hugging Face tokenizers binding, with
 * the special tokens, {@code add_bos_token} and {@code chat_template} of {@code
 * tokenizer_config.json}. Encoding follows Hugging Face transformers: when tokenizer_config.json
 * states {@code add_bos_token}/{@code add_eos_token} (Llama 1/2, Mistral) those decide; otherwise
 * tokenizer.json's post-processor does (Llama 3 prepends {@code <|begin_of_text|>}, Qwen adds
 * nothing). DJL's own defaults (truncation to 512 tokens, padding) are switched off.
 *
 * <p>Thread-safe (the native tokenizer is immutable); the loader closes it.
 */
public final class LlmTokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final Map<String, Integer> specialIds;
  private final Set<Integer> specialIdSet;
  private final String bosToken;
  private final String eosToken;
  private final String padToken;
  private final Boolean addBosToken;
  private final boolean addEosToken;
  private final String chatTemplate;
  private final int vocabSize;

  private LlmTokenizer(
      HuggingFaceTokenizer tokenizer,
      Map<String, Integer> specialIds,
      String bosToken,
      String eosToken,
      String padToken,
      Boolean addBosToken,
      boolean addEosToken,
      String chatTemplate,
      int vocabSize) {
    this.tokenizer = tokenizer;
    this.specialIds = specialIds;
    this.specialIdSet = new HashSet<>(specialIds.values());
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    this.padToken = padToken;
    this.addBosToken = addBosToken;
    this.addEosToken = addEosToken;
    this.chatTemplate = chatTemplate;
    this.vocabSize = vocabSize;
  }

  /** Loads {@code dir/tokenizer.json} and, when present, {@code dir/tokenizer_config.json}. */
  public static LlmTokenizer load(Path dir) {
    Path file = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(file)) {
      throw new ModelLoadException(
          file, "file not found; editforge needs a fast tokenizer (tokenizer.json)");
    }
    JsonNode json = ModelConfig.readJson(file, true);
    Map<String, Integer> special = new HashMap<>();
    int maxId = -1;
    for (JsonNode t : json.path("added_tokens")) {
      special.put(t.path("content").asText(), t.path("id").asInt());
      maxId = Math.max(maxId, t.path("id").asInt());
    }
    JsonNode vocab = json.path("model").path("vocab");
    Map<String, Integer> vocabIds = new HashMap<>();
    if (vocab.isObject()) {
      vocab.fields().forEachRemaining(e -> vocabIds.put(e.getKey(), e.getValue().asInt()));
      for (int id : vocabIds.values()) {
        maxId = Math.max(maxId, id);
      }
    } else if (vocab.isArray()) {
      maxId = Math.max(maxId, vocab.size() - 1);
    }
    JsonNode cfg = ModelConfig.readJson(dir.resolve("tokenizer_config.json"), false);
    String bos = tokenText(cfg, "bos_token");
    String eos = tokenText(cfg, "eos_token");
    String pad = tokenText(cfg, "pad_token");
    Boolean addBos =
        cfg != null && cfg.has("add_bos_token") && !cfg.get("add_bos_token").isNull()
            ? cfg.get("add_bos_token").asBoolean()
            : null;
    boolean addEos = cfg != null && cfg.path("add_eos_token").asBoolean(false);
    String template = chatTemplate(cfg, dir);
    for (String tok : new String[] {bos, eos, pad}) {
      if (tok != null && !special.containsKey(tok) && vocabIds.containsKey(tok)) {
        special.put(tok, vocabIds.get(tok));
      }
    }
    HuggingFaceTokenizer hf;
    try {
      hf =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(file)
              .optAddSpecialTokens(false)
              .optTruncation(false)
              .optPadding(false)
              .build();
    } catch (IOException | RuntimeException e) {
      throw new ModelLoadException(
          file, "cannot be loaded by the tokenizers library: " + e.getMessage(), e);
    }
    if (addBos != null && addBos && (bos == null || !special.containsKey(bos))) {
      hf.close();
      throw new ModelLoadException(
          dir.resolve("tokenizer_config.json"),
          "add_bos_token is true but bos_token " + bos + " is not in the vocabulary");
    }
    return new LlmTokenizer(
        hf,
        Collections.unmodifiableMap(special),
        bos,
        eos,
        pad,
        addBos,
        addEos,
        template,
        maxId + 1);
  }

  /**
   * The chat template a model directory ships (tokenizer_config.json's {@code chat_template}, else
   * {@code chat_template.jinja}) with its bos/eos tokens, read without loading the tokenizer, so a
   * driver can check it; null when the model ships none.
   */
  public static ChatTemplate readChatTemplate(Path dir) {
    JsonNode cfg = ModelConfig.readJson(dir.resolve("tokenizer_config.json"), false);
    String template = chatTemplate(cfg, dir);
    return template == null
        ? null
        : ChatTemplate.of(template, tokenText(cfg, "bos_token"), tokenText(cfg, "eos_token"));
  }

  private static String tokenText(JsonNode cfg, String key) {
    if (cfg == null || !cfg.has(key) || cfg.get(key).isNull()) {
      return null;
    }
    JsonNode n = cfg.get(key);
    return n.isObject() ? n.path("content").asText(null) : n.asText();
  }

  private static String chatTemplate(JsonNode cfg, Path dir) {
    JsonNode t = cfg == null ? null : cfg.get("chat_template");
    if (t != null && t.isTextual()) {
      return t.asText();
    }
    if (t != null && t.isArray()) {
      // Newer configs list named templates; "default" is the conversational one.
      for (JsonNode named : t) {
        if ("default".equals(named.path("name").asText())) {
          return named.path("template").asText();
        }
      }
    }
    Path jinja = dir.resolve("chat_template.jinja");
    if (Files.isRegularFile(jinja)) {
      try {
        return Files.readString(jinja);
      } catch (IOException e) {
        throw new ModelLoadException(jinja, "cannot read: " + e.getMessage(), e);
      }
    }
    return null;
  }

  /** Encodes a raw prompt as transformers' {@code tokenizer(text)} would (special tokens added). */
  public int[] encode(String text) {
    return encode(text, true);
  }

  /**
   * Encodes {@code text}; {@code addSpecialTokens=false} is for text that already carries them,
   * such as a rendered chat template (transformers' {@code apply_chat_template} does the same).
   */
  public int[] encode(String text, boolean addSpecialTokens) {
    boolean viaPostProcessor = addSpecialTokens && addBosToken == null;
    long[] ids = tokenizer.encode(text, viaPostProcessor, false).getIds();
    boolean bos = addSpecialTokens && addBosToken != null && addBosToken;
    boolean eos =
        addSpecialTokens
            && addBosToken != null
            && addEosToken
            && eosToken != null
            && specialIds.containsKey(eosToken);
    int[] out = new int[ids.length + (bos ? 1 : 0) + (eos ? 1 : 0)];
    int k = 0;
    if (bos) {
      out[k++] = specialIds.get(bosToken);
    }
    for (long id : ids) {
      out[k++] = (int) id;
    }
    if (eos) {
      out[k] = specialIds.get(eosToken);
    }
    return out;
  }

  /** Decodes ids to text, skipping special tokens. */
  public String decode(int[] ids) {
    return decode(ids, true);
  }

  public String decode(int[] ids, boolean skipSpecialTokens) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return tokenizer.decode(l, skipSpecialTokens);
  }

  public String decode(List<Integer> ids) {
    return decode(ids.stream().mapToInt(Integer::intValue).toArray(), true);
  }

  /** The id of a special or added token such as {@code <|im_end|>}, or -1. */
  public int specialTokenId(String token) {
    Integer id = token == null ? null : specialIds.get(token);
    return id == null ? -1 : id;
  }

  public boolean isSpecial(int id) {
    return specialIdSet.contains(id);
  }

  /** Null when tokenizer_config.json names none. */
  public String bosToken() {
    return bosToken;
  }

  public String eosToken() {
    return eosToken;
  }

  public String padToken() {
    return padToken;
  }

  public int bosTokenId() {
    return specialTokenId(bosToken);
  }

  public int eosTokenId() {
    return specialTokenId(eosToken);
  }

  /** The model's Jinja chat template, or null when it ships none (base models). */
  public String chatTemplate() {
    return chatTemplate;
  }

  /** One past the highest token id the tokenizer knows. */
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
