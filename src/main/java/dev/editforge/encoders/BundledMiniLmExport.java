package dev.editforge.encoders;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.llm.SafetensorsWriter;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeSet;

/**
 * Writes the bundled all-MiniLM-L6-v2 as a Hugging Face BERT directory (config.json,
 * model.safetensors, tokenizer.json) from its ONNX file, so {@link BertEncoder} can run the same
 * model natively on the PyTorch engine, on a GPU where ONNX Runtime here is CPU-only, and so the
 * native encoder can be checked against the ONNX one.
 */
public final class BundledMiniLmExport {
  /** MiniLM-L6-H384 has 12 heads of 32; the weights alone do not say how hidden is split. */
  static final int HEADS = 12;

  private BundledMiniLmExport() {}

  /** Exports into {@code dir} (created if needed) and returns it. */
  public static Path write(Path dir) {
    try {
      Files.createDirectories(dir);
      byte[] onnx;
      try (InputStream in = OnnxMiniLmEncoder.resource(OnnxMiniLmEncoder.ONNX_RESOURCE)) {
        onnx = in.readAllBytes();
      }
      Map<String, OnnxBertWeights.Tensor> weights = OnnxBertWeights.read(onnx);
      onnx = null;
      SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
      for (OnnxBertWeights.Tensor t : weights.values()) {
        w.addF32(t.name(), t.shape(), t.data());
      }
      w.write(dir.resolve("model.safetensors"));
      Files.writeString(dir.resolve("config.json"), config(weights));
      try (InputStream in = OnnxMiniLmEncoder.resource(OnnxMiniLmEncoder.TOKENIZER_RESOURCE)) {
        Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot export the bundled MiniLM to " + dir, e);
    }
  }

  private static String config(Map<String, OnnxBertWeights.Tensor> w) throws IOException {
    TreeSet<Integer> layers = new TreeSet<>();
    for (String name : w.keySet()) {
      if (name.startsWith("encoder.layer.")) {
        layers.add(Integer.parseInt(name.split("\\.")[2]));
      }
    }
    long[] word = w.get("embeddings.word_embeddings.weight").shape();
    ObjectNode c = Json.COMPACT.createObjectNode();
    c.put("model_type", "bert");
    c.putArray("architectures").add("BertModel");
    c.put("_name_or_path", OnnxMiniLmEncoder.MODEL_NAME);
    c.put("vocab_size", word[0]);
    c.put("hidden_size", word[1]);
    c.put("num_hidden_layers", layers.size());
    c.put("num_attention_heads", HEADS);
    c.put("intermediate_size", w.get("encoder.layer.0.intermediate.dense.weight").shape()[0]);
    c.put("max_position_embeddings", w.get("embeddings.position_embeddings.weight").shape()[0]);
    c.put("type_vocab_size", w.get("embeddings.token_type_embeddings.weight").shape()[0]);
    c.put("layer_norm_eps", 1e-12);
    c.put("hidden_act", "gelu");
    c.put("pad_token_id", 0);
    return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(c);
  }
}
