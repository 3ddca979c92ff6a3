package dev.editforge.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Adds special tokens to a tokenizer on disk the way transformers' {@code
 * tokenizer.add_special_tokens({"additional_special_tokens": [...]})} followed by {@code
 * save_pretrained} does: each token that the tokenizer does not know yet gets the next id after the
 * highest one it has ({@code len(tokenizer)}), in the order given, and is written into {@code
 * tokenizer.json}'s {@code added_tokens} (special, not normalized, no strip), into {@code
 * tokenizer_config.json}'s {@code added_tokens_decoder} and {@code additional_special_tokens}, and
 * into {@code special_tokens_map.json} when the model has one. A token already in the vocabulary
 * (ChatML's {@code <|im_start|>} in Qwen) keeps its id and is only marked special, as transformers
 * does. Stateless; thread-safe.
 */
public final class AddedTokens {
  /**
   * What adding did.
   *
   * @param ids every requested token's id, in the order requested
   * @param added the tokens that were new (they got ids {@code oldSize ..}), in order
   * @param oldSize {@code len(tokenizer)} before
   * @param newSize {@code len(tokenizer)} after
   */
  public record Result(Map<String, Integer> ids, List<String> added, int oldSize, int newSize) {
    public Result {
      ids = Collections.unmodifiableMap(new LinkedHashMap<>(ids));
      added = List.copyOf(added);
    }

    /** Ids of the new tokens: {@code oldSize .. newSize - 1}. */
    public int[] addedIds() {
      int[] out = new int[added.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = oldSize + i;
      }
      return out;
    }
  }

  private AddedTokens() {}

  /**
   * Reads the tokenizer files of {@code from} and writes them, with {@code tokens} added, into
   * {@code to} (may equal {@code from}). Only {@code tokenizer.json}, {@code tokenizer_config.json}
   * and {@code special_tokens_map.json} are written; copy other files yourself.
   */
  public static Result write(Path from, Path to, List<String> tokens) {
    Path file = from.resolve("tokenizer.json");
    JsonNode read = ModelConfig.readJson(file, true);
    if (!(read instanceof ObjectNode tokenizer)) {
      throw new ModelLoadException(file, "is not a JSON object");
    }
    Map<String, Integer> known = new LinkedHashMap<>();
    int maxId = -1;
    ArrayNode addedTokens =
        tokenizer.get("added_tokens") instanceof ArrayNode a
            ? a
            : tokenizer.putArray("added_tokens");
    for (JsonNode t : addedTokens) {
      known.put(t.path("content").asText(), t.path("id").asInt());
      maxId = Math.max(maxId, t.path("id").asInt());
    }
    JsonNode vocab = tokenizer.path("model").path("vocab");
    if (vocab.isObject()) {
      var it = vocab.fields();
      while (it.hasNext()) {
        var e = it.next();
        known.putIfAbsent(e.getKey(), e.getValue().asInt());
        maxId = Math.max(maxId, e.getValue().asInt());
      }
    } else if (vocab.isArray()) {
      // Unigram vocabularies are [piece, score] pairs whose id is the position.
      for (int i = 0; i < vocab.size(); i++) {
        known.putIfAbsent(vocab.get(i).path(0).asText(), i);
      }
      maxId = Math.max(maxId, vocab.size() - 1);
    }
    int oldSize = maxId + 1;
    int next = oldSize;
    Map<String, Integer> ids = new LinkedHashMap<>();
    List<String> added = new ArrayList<>();
    Set<String> specialNow = new LinkedHashSet<>();
    for (String token : new LinkedHashSet<>(tokens)) {
      if (token.isEmpty()) {
        throw new IllegalArgumentException("an added token must not be empty");
      }
      Integer id = known.get(token);
      if (id == null) {
        id = next++;
        added.add(token);
        ObjectNode t = addedTokens.addObject();
        t.put("id", id);
        t.put("content", token);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
      } else {
        markSpecial(addedTokens, token, id);
      }
      ids.put(token, id);
      specialNow.add(token);
    }
    try {
      Files.createDirectories(to);
      Json.COMPACT
          .writerWithDefaultPrettyPrinter()
          .writeValue(to.resolve("tokenizer.json").toFile(), tokenizer);
      JsonNode cfgRead = ModelConfig.readJson(from.resolve("tokenizer_config.json"), false);
      ObjectNode cfg = cfgRead instanceof ObjectNode o ? o : Json.COMPACT.createObjectNode();
      ObjectNode decoder =
          cfg.get("added_tokens_decoder") instanceof ObjectNode d
              ? d
              : cfg.putObject("added_tokens_decoder");
      for (JsonNode t : addedTokens) {
        if (t.path("special").asBoolean(false) && specialNow.contains(t.path("content").asText())) {
          ObjectNode d = decoder.putObject(String.valueOf(t.path("id").asInt()));
          d.put("content", t.path("content").asText());
          d.put("lstrip", false);
          d.put("normalized", false);
          d.put("rstrip", false);
          d.put("single_word", false);
          d.put("special", true);
        }
      }
      appendSpecial(cfg, specialNow);
      Json.COMPACT
          .writerWithDefaultPrettyPrinter()
          .writeValue(to.resolve("tokenizer_config.json").toFile(), cfg);
      Path mapFile = from.resolve("special_tokens_map.json");
      if (Files.isRegularFile(mapFile)) {
        JsonNode map = ModelConfig.readJson(mapFile, true);
        if (map instanceof ObjectNode m) {
          appendSpecial(m, specialNow);
          Json.COMPACT
              .writerWithDefaultPrettyPrinter()
              .writeValue(to.resolve("special_tokens_map.json").toFile(), m);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the tokenizer into " + to, e);
    }
    return new Result(ids, added, oldSize, next);
  }

  /** A vocabulary token becomes an added special token with its own id (transformers does so). */
  private static void markSpecial(ArrayNode addedTokens, String token, int id) {
    for (JsonNode t : addedTokens) {
      if (t.path("content").asText().equals(token)) {
        ((ObjectNode) t).put("special", true);
        return;
      }
    }
    ObjectNode t = addedTokens.addObject();
    t.put("id", id);
    t.put("content", token);
    t.put("single_word", false);
    t.put("lstrip", false);
    t.put("rstrip", false);
    t.put("normalized", false);
    t.put("special", true);
  }

  private static void appendSpecial(ObjectNode cfg, Set<String> tokens) {
    Set<String> all = new LinkedHashSet<>();
    JsonNode existing = cfg.get("additional_special_tokens");
    if (existing != null && existing.isArray()) {
      for (JsonNode t : existing) {
        all.add(t.isObject() ? t.path("content").asText() : t.asText());
      }
    }
    all.addAll(tokens);
    ArrayNode out = cfg.putArray("additional_special_tokens");
    all.forEach(out::add);
  }
}
