package dev.editforge.llm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@code .safetensors} file: collect tensors with the {@code add} methods, then {@link
 * #write} streams them to disk one at a time (an added {@link NDArray} is read only then, and a
 * {@link TensorSource} produces its bytes only then, so writing a large checkpoint never holds it
 * twice). The header is padded to a multiple of 8 bytes, as Hugging Face's writer does, so every
 * tensor starts aligned. Not thread-safe; one writer per file.
 */
public final class SafetensorsWriter {
  /** Writes exactly the tensor's byte length, little-endian, when the file is written. */
  @FunctionalInterface
  public interface TensorSource {
    void writeTo(WritableByteChannel out) throws IOException;
  }

  private record Entry(
      String name, SafetensorsDType dtype, long[] shape, long bytes, TensorSource source) {}

  private static final int BLOCK = 1 << 18;

  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  public SafetensorsWriter() {
    metadata.put("format", "pt");
  }

  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** A float32 tensor from a heap array (small tensors: LoRA factors, norms, tests). */
  public SafetensorsWriter addF32(String name, long[] shape, float[] data) {
    return addFloats(name, SafetensorsDType.F32, shape, data);
  }

  /** A float tensor stored as {@code dtype} (F32, F16 or BF16), converted from float32 values. */
  public SafetensorsWriter addFloats(
      String name, SafetensorsDType dtype, long[] shape, float[] data) {
    checkCount(name, shape, data.length);
    float[] copy = data.clone();
    return add(name, dtype, shape, out -> writeFloats(out, dtype, copy, 0, copy.length));
  }

  /**
   * An NDArray stored as {@code dtype} (F32, F16 or BF16); its values are read when the file is
   * written, so it must stay open until then.
   */
  public SafetensorsWriter add(String name, NDArray array, SafetensorsDType dtype) {
    long[] shape = array.getShape().getShape();
    return add(
        name,
        dtype,
        shape,
        out -> {
          NDArray f32 =
              array.getDataType() == DataType.FLOAT32
                  ? array
                  : array.toType(DataType.FLOAT32, false);
          try {
            float[] values = f32.toFloatArray();
            writeFloats(out, dtype, values, 0, values.length);
          } finally {
            if (f32 != array) {
              f32.close();
            }
          }
        });
  }

  /** Raw little-endian bytes of any dtype. */
  public SafetensorsWriter addBytes(
      String name, SafetensorsDType dtype, long[] shape, ByteBuffer littleEndian) {
    ByteBuffer copy = littleEndian.duplicate();
    long expected = numel(shape) * dtype.bytes();
    if (copy.remaining() != expected) {
      throw new IllegalArgumentException(
          name + ": " + copy.remaining() + " bytes given, shape needs " + expected);
    }
    return add(
        name,
        dtype,
        shape,
        out -> {
          ByteBuffer b = copy.duplicate();
          while (b.hasRemaining()) {
            out.write(b);
          }
        });
  }

  /** A tensor whose bytes {@code source} streams at write time (e.g. random weights in chunks). */
  public SafetensorsWriter add(
      String name, SafetensorsDType dtype, long[] shape, TensorSource source) {
    if (entries.containsKey(name)) {
      throw new IllegalArgumentException("tensor " + name + " added twice");
    }
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(name + ": negative dimension in shape");
      }
    }
    entries.put(name, new Entry(name, dtype, shape.clone(), numel(shape) * dtype.bytes(), source));
    return this;
  }

  /** Writes the file (to a temporary sibling first, then moved into place). */
  public void write(Path file) {
    ObjectMapper json = Json.COMPACT;
    ObjectNode header = json.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    List<Entry> order = new ArrayList<>(entries.values());
    for (Entry e : order) {
      ObjectNode t = header.putObject(e.name());
      t.put("dtype", e.dtype().name());
      ArrayNode shape = t.putArray("shape");
      for (long d : e.shape()) {
        shape.add(d);
      }
      ArrayNode offsets = t.putArray("data_offsets");
      offsets.add(offset);
      offsets.add(offset + e.bytes());
      offset += e.bytes();
    }
    byte[] headerBytes;
    try {
      headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int padded = (headerBytes.length + 7) / 8 * 8;
    ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    prefix.putLong(padded);
    prefix.put(headerBytes);
    while (prefix.hasRemaining()) {
      prefix.put((byte) ' ');
    }
    prefix.flip();
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        while (prefix.hasRemaining()) {
          ch.write(prefix);
        }
        for (Entry e : order) {
          long before = ch.position();
          e.source().writeTo(ch);
          long written = ch.position() - before;
          if (written != e.bytes()) {
            throw new IllegalStateException(
                "tensor "
                    + e.name()
                    + ": source wrote "
                    + written
                    + " bytes, shape needs "
                    + e.bytes());
          }
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  /**
   * Writes the tensors into {@code dir} as a Hugging Face model's weights, split the way
   * transformers' {@code save_pretrained(max_shard_size=...)} splits them: tensors in order, a new
   * shard whenever the next tensor would take the current one above {@code maxShardBytes}, a tensor
   * larger than that alone in its own shard. One shard is {@code model.safetensors}; several are
   * {@code model-00001-of-0000N.safetensors} with {@code model.safetensors.index.json} ({@code
   * metadata.total_size} in bytes, {@code weight_map} tensor → file), written last so a reader
   * never finds an index naming a missing shard. Weight files of an earlier save in {@code dir}
   * that this save did not write are deleted. Returns the files written.
   */
  public List<Path> writeSharded(Path dir, long maxShardBytes) {
    if (maxShardBytes < 1) {
      throw new IllegalArgumentException("max shard size must be positive, got " + maxShardBytes);
    }
    List<List<Entry>> shards = shards(new ArrayList<>(entries.values()), maxShardBytes);
    List<Path> written = new ArrayList<>();
    if (shards.size() <= 1) {
      write(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE));
      written.add(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE));
    } else {
      ObjectNode index = Json.COMPACT.createObjectNode();
      long total = 0;
      for (Entry e : entries.values()) {
        total += e.bytes();
      }
      index.putObject("metadata").put("total_size", total);
      ObjectNode weightMap = index.putObject("weight_map");
      for (int i = 0; i < shards.size(); i++) {
        String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
        SafetensorsWriter shard = new SafetensorsWriter();
        shard.metadata.clear();
        shard.metadata.putAll(metadata);
        for (Entry e : shards.get(i)) {
          shard.entries.put(e.name(), e);
          weightMap.put(e.name(), name);
        }
        shard.write(dir.resolve(name));
        written.add(dir.resolve(name));
      }
      Path indexFile = dir.resolve(SafetensorsCheckpoint.INDEX_FILE);
      Path tmp = indexFile.resolveSibling(indexFile.getFileName() + ".tmp");
      try {
        Json.COMPACT.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), index);
        Files.move(
            tmp, indexFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + indexFile + ": " + e.getMessage(), e);
      }
      written.add(indexFile);
    }
    deleteStaleWeights(dir, written);
    return written;
  }

  /** transformers' (huggingface_hub's {@code split_torch_state_dict_into_shards}) greedy split. */
  private static List<List<Entry>> shards(List<Entry> order, long maxShardBytes) {
    List<List<Entry>> shards = new ArrayList<>();
    List<Entry> current = new ArrayList<>();
    long size = 0;
    for (Entry e : order) {
      if (e.bytes() > maxShardBytes) {
        shards.add(List.of(e));
        continue;
      }
      if (size + e.bytes() > maxShardBytes && !current.isEmpty()) {
        shards.add(current);
        current = new ArrayList<>();
        size = 0;
      }
      current.add(e);
      size += e.bytes();
    }
    if (!current.isEmpty()) {
      shards.add(current);
    }
    return shards;
  }

  private static void deleteStaleWeights(Path dir, List<Path> keep) {
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        String n = p.getFileName().toString();
        boolean weights =
            n.equals(SafetensorsCheckpoint.SINGLE_FILE)
                || n.equals(SafetensorsCheckpoint.INDEX_FILE)
                || n.matches("model-\\d{5}-of-\\d{5}\\.safetensors");
        if (weights && !keep.contains(p)) {
          Files.delete(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean old weights from " + dir, e);
    }
  }

  /** Writes {@code values[from, from+count)} as {@code dtype}, little-endian, in 1 MiB blocks. */
  public static void writeFloats(
      WritableByteChannel out, SafetensorsDType dtype, float[] values, int from, int count)
      throws IOException {
    writeFloats(
        out,
        dtype,
        values,
        from,
        count,
        ByteBuffer.allocate(Math.min(count, BLOCK) * dtype.bytes()));
  }

  /**
   * As above, encoding through {@code scratch} (any capacity of at least one element) to avoid
   * garbage.
   */
  public static void writeFloats(
      WritableByteChannel out,
      SafetensorsDType dtype,
      float[] values,
      int from,
      int count,
      ByteBuffer scratch)
      throws IOException {
    int width = dtype.bytes();
    int block = Math.max(1, scratch.capacity() / width);
    ByteBuffer buf = scratch.order(ByteOrder.LITTLE_ENDIAN);
    for (int start = from; start < from + count; start += block) {
      int n = Math.min(block, from + count - start);
      buf.clear();
      switch (dtype) {
        case F32 -> buf.asFloatBuffer().put(values, start, n);
        case F16 -> {
          ShortBuffer sb = buf.asShortBuffer();
          for (int i = 0; i < n; i++) {
            sb.put(FloatBits.floatToF16(values[start + i]));
          }
        }
        case BF16 -> {
          ShortBuffer sb = buf.asShortBuffer();
          for (int i = 0; i < n; i++) {
            sb.put(FloatBits.floatToBf16(values[start + i]));
          }
        }
        default -> throw new IllegalArgumentException("float data cannot be stored as " + dtype);
      }
      buf.limit(n * width);
      buf.position(0);
      while (buf.hasRemaining()) {
        out.write(buf);
      }
    }
  }

  private static void checkCount(String name, long[] shape, int count) {
    if (numel(shape) != count) {
      throw new IllegalArgumentException(
          name + ": " + count + " values given, shape needs " + numel(shape));
    }
  }

  static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
