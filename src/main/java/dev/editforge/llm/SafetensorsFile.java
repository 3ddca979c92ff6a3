package dev.editforge.llm;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.text.Json;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One {@code .safetensors} file: the JSON header is parsed and validated on {@link #open}, tensor
 * data is memory-mapped on demand and never copied whole onto the Java heap.
 *
 * <p>Every structural problem (truncated file, header length beyond the file, malformed JSON,
 * unknown dtype, offsets outside the data section, a shape that disagrees with its byte range) is
 * reported by {@link #open} as one {@link ModelLoadException} naming the file, before any tensor is
 * touched, so corrupt input never reaches native code.
 *
 * <p>{@link #load} copies a tensor into an {@link NDArray} in bounded chunks (bf16 is widened to
 * float32 in Java, since DJL's PyTorch engine aborts on bf16 casts); peak extra memory is one
 * chunk, not the checkpoint. Thread-safe: reads may run concurrently. The opener closes it.
 */
public final class SafetensorsFile implements AutoCloseable {
  /** safetensors' own limit on the header size; anything bigger is corrupt. */
  static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  /** Bytes of source data converted per step in {@link #load}: bounds the transient memory. */
  static final long DEFAULT_CHUNK_BYTES = 16L * 1024 * 1024;

  private static final ObjectMapper JSON = Json.COMPACT;

  /** Where one tensor lies: offsets are relative to the start of the data section. */
  public record TensorInfo(
      String name, SafetensorsDType dtype, long[] shape, long begin, long end) {
    public TensorInfo {
      shape = shape.clone();
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    public long numel() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }

    public long byteLength() {
      return end - begin;
    }

    public String shapeString() {
      return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TensorInfo t
          && name.equals(t.name)
          && dtype == t.dtype
          && Arrays.equals(shape, t.shape)
          && begin == t.begin
          && end == t.end;
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
      return name + " " + dtype + " " + shapeString();
    }
  }

  private final Path path;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;
  private final long chunkBytes;

  private SafetensorsFile(
      Path path,
      FileChannel channel,
      long dataStart,
      Map<String, TensorInfo> tensors,
      Map<String, String> metadata,
      long chunkBytes) {
    this.path = path;
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
    this.chunkBytes = chunkBytes;
  }

  /** Opens and validates {@code file}; throws {@link ModelLoadException} on any problem. */
  public static SafetensorsFile open(Path file) {
    return open(file, DEFAULT_CHUNK_BYTES);
  }

  /** As {@link #open(Path)}, converting at most {@code chunkBytes} of source data per load step. */
  static SafetensorsFile open(Path file, long chunkBytes) {
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new ModelLoadException(file, "file not found");
    } catch (IOException e) {
      throw new ModelLoadException(file, "cannot open: " + e.getMessage(), e);
    }
    try {
      SafetensorsFile opened = parse(file, channel, chunkBytes);
      return opened;
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  private static SafetensorsFile parse(Path file, FileChannel channel, long chunkBytes) {
    long size;
    try {
      size = channel.size();
    } catch (IOException e) {
      throw new ModelLoadException(file, "cannot read its size: " + e.getMessage(), e);
    }
    if (size < 8) {
      throw new ModelLoadException(
          file,
          "truncated: "
              + size
              + " bytes, but a safetensors file starts with an 8-byte header length");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(file, channel, lenBuf, 0);
    long headerLen = lenBuf.getLong(0);
    if (headerLen < 2 || headerLen > size - 8) {
      throw new ModelLoadException(
          file,
          "header length "
              + Long.toUnsignedString(headerLen)
              + " does not fit the file of "
              + size
              + " bytes (truncated or not a safetensors file)");
    }
    if (headerLen > MAX_HEADER_BYTES) {
      throw new ModelLoadException(
          file,
          "header length "
              + headerLen
              + " exceeds safetensors' limit of "
              + MAX_HEADER_BYTES
              + " bytes");
    }
    ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
    readFully(file, channel, headerBuf, 8);
    JsonNode header;
    try {
      header = JSON.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8).trim());
    } catch (JsonProcessingException e) {
      throw new ModelLoadException(file, "header is not valid JSON: " + e.getOriginalMessage());
    }
    if (header == null || !header.isObject()) {
      throw new ModelLoadException(file, "header is not a JSON object");
    }
    long dataStart = 8 + headerLen;
    long dataLength = size - dataStart;
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> entry = fields.next();
      String name = entry.getKey();
      JsonNode node = entry.getValue();
      if (name.equals("__metadata__")) {
        if (node.isObject()) {
          node.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
        }
        continue;
      }
      tensors.put(name, parseTensor(file, name, node, dataLength));
    }
    return new SafetensorsFile(
        file,
        channel,
        dataStart,
        Collections.unmodifiableMap(tensors),
        Collections.unmodifiableMap(metadata),
        chunkBytes);
  }

  private static TensorInfo parseTensor(Path file, String name, JsonNode node, long dataLength) {
    if (!node.isObject()) {
      throw new ModelLoadException(file, "tensor " + name + ": header entry is not an object");
    }
    JsonNode dtypeNode = node.get("dtype");
    JsonNode shapeNode = node.get("shape");
    JsonNode offsetsNode = node.get("data_offsets");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw new ModelLoadException(file, "tensor " + name + ": missing dtype");
    }
    SafetensorsDType dtype = SafetensorsDType.parse(dtypeNode.asText());
    if (dtype == null) {
      throw new ModelLoadException(
          file,
          "tensor "
              + name
              + ": unknown dtype "
              + dtypeNode.asText()
              + " (known: "
              + SafetensorsDType.known()
              + ")");
    }
    if (shapeNode == null || !shapeNode.isArray()) {
      throw new ModelLoadException(file, "tensor " + name + ": missing shape");
    }
    long[] shape = new long[shapeNode.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToLong() || d.asLong() < 0) {
        throw new ModelLoadException(
            file, "tensor " + name + ": shape " + shapeNode + " has an invalid dimension");
      }
      shape[i] = d.asLong();
      try {
        numel = Math.multiplyExact(numel, shape[i]);
      } catch (ArithmeticException e) {
        throw new ModelLoadException(
            file, "tensor " + name + ": shape " + shapeNode + " overflows");
      }
    }
    if (offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2) {
      throw new ModelLoadException(file, "tensor " + name + ": data_offsets must be [begin, end]");
    }
    long begin = offsetsNode.get(0).asLong(-1);
    long end = offsetsNode.get(1).asLong(-1);
    if (begin < 0 || end < begin || end > dataLength) {
      throw new ModelLoadException(
          file,
          "tensor "
              + name
              + ": data offsets ["
              + offsetsNode.get(0)
              + ", "
              + offsetsNode.get(1)
              + ") lie outside the data section of "
              + dataLength
              + " bytes (truncated file?)");
    }
    long expected;
    try {
      expected = Math.multiplyExact(numel, dtype.bytes());
    } catch (ArithmeticException e) {
      throw new ModelLoadException(file, "tensor " + name + ": shape " + shapeNode + " overflows");
    }
    if (end - begin != expected) {
      throw new ModelLoadException(
          file,
          "tensor "
              + name
              + ": shape "
              + Arrays.toString(shape)
              + " of "
              + dtype
              + " needs "
              + expected
              + " bytes but data offsets give "
              + (end - begin));
    }
    return new TensorInfo(name, dtype, shape, begin, end);
  }

  public Path path() {
    return path;
  }

  /** Tensor names in header order. */
  public Set<String> names() {
    return tensors.keySet();
  }

  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /** The header entry of {@code name}; throws {@link ModelLoadException} when it is absent. */
  public TensorInfo info(String name) {
    TensorInfo t = tensors.get(name);
    if (t == null) {
      throw new ModelLoadException(path, "has no tensor " + name);
    }
    return t;
  }

  /** The {@code __metadata__} entries (for example {@code format = pt}). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * The raw little-endian bytes of a tensor, memory-mapped read-only (not copied). Limited to
   * tensors under 2 GiB, the most one Java buffer can address; use {@link #load} for larger ones.
   */
  public ByteBuffer bytes(String name) {
    TensorInfo t = info(name);
    if (t.byteLength() > Integer.MAX_VALUE) {
      throw new ModelLoadException(
          path, "tensor " + name + " is over 2 GiB; load it with load(...)");
    }
    return map(dataStart + t.begin(), t.byteLength())
        .asReadOnlyBuffer()
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * A float tensor widened to float32 on the heap; meant for small tensors (norms, LoRA factors,
   * test checks). Large weights go through {@link #load}.
   */
  public float[] readFloats(String name) {
    TensorInfo t = requireFloat(name);
    if (t.numel() > Integer.MAX_VALUE - 8) {
      throw new ModelLoadException(
          path, "tensor " + name + " is too large for a Java array; load it with load(...)");
    }
    float[] out = new float[(int) t.numel()];
    ByteBuffer src = bytes(name);
    switch (t.dtype()) {
      case F32 -> src.asFloatBuffer().get(out);
      case F16 -> {
        ShortBuffer s = src.asShortBuffer();
        for (int i = 0; i < out.length; i++) {
          out[i] = FloatBits.f16ToFloat(s.get(i));
        }
      }
      case BF16 -> {
        ShortBuffer s = src.asShortBuffer();
        for (int i = 0; i < out.length; i++) {
          out[i] = FloatBits.bf16ToFloat(s.get(i));
        }
      }
      default -> throw new IllegalStateException("unreachable: " + t.dtype());
    }
    return out;
  }

  /**
   * Copies a float tensor (F32, F16 or BF16 on disk) into a new array of {@code target} type
   * (float32 or float16) on {@code manager}'s device, attached to {@code manager}. The caller owns
   * the result. Works chunk by chunk along the first dimension, so neither the heap nor native
   * memory ever holds a second full copy.
   */
  public NDArray load(String name, NDManager manager, DataType target) {
    if (target != DataType.FLOAT32 && target != DataType.FLOAT16) {
      // bf16 in particular: DJL's PyTorch engine aborts the JVM on bf16 casts.
      throw new IllegalArgumentException("weights load as float32 or float16 only, not " + target);
    }
    TensorInfo t = requireFloat(name);
    Shape shape = new Shape(t.shape());
    if (t.numel() == 0) {
      return manager.zeros(shape, target);
    }
    long rows = t.shape().length == 0 ? 1 : t.shape()[0];
    long rowElems = t.numel() / rows;
    if (chunkRows(t, rows, rowElems) < rows) {
      NDArray out = manager.zeros(shape, target);
      try {
        loadInto(name, out, 0);
      } catch (RuntimeException e) {
        out.close();
        throw e;
      }
      return out;
    }
    ByteBuffer widen = widenBuffer(t, rows, rowElems);
    try (NDManager scratch = manager.getEngine().newBaseManager(Device.cpu())) {
      return withView(
          t,
          0,
          rows,
          rowElems,
          scratch,
          widen,
          view -> {
            NDArray copy = copyTo(view, manager, target);
            try (NDArray flat = copy) {
              return flat.reshape(shape);
            }
          });
    } finally {
      if (widen != null) {
        release(widen);
      }
    }
  }

  /** Rows per chunk: as many as fit {@code chunkBytes}, at least one. */
  private long chunkRows(TensorInfo t, long rows, long rowElems) {
    return Math.min(rows, Math.max(1, chunkBytes / (rowElems * t.dtype().bytes())));
  }

  /** A float32 buffer for one chunk when bf16 or misaligned data must be widened, else null. */
  private ByteBuffer widenBuffer(TensorInfo t, long rows, long rowElems) {
    if (t.dtype() != SafetensorsDType.BF16 && !misaligned(t)) {
      return null;
    }
    long chunkRows = chunkRows(t, rows, rowElems);
    return ByteBuffer.allocateDirect((int) Math.min(Integer.MAX_VALUE, chunkRows * rowElems * 4))
        .order(ByteOrder.nativeOrder());
  }

  /**
   * Copies a float tensor into rows {@code [rowOffset, rowOffset + rows)} of {@code target}, an
   * existing float32 or float16 array whose other dimensions match: several checkpoint tensors then
   * fill one preallocated (fused) weight without a second full copy, chunk by chunk as {@link
   * #load} does.
   */
  public void loadInto(String name, NDArray target, long rowOffset) {
    DataType type = target.getDataType();
    if (type != DataType.FLOAT32 && type != DataType.FLOAT16) {
      throw new IllegalArgumentException("weights load as float32 or float16 only, not " + type);
    }
    TensorInfo t = requireFloat(name);
    long rows = t.shape().length == 0 ? 1 : t.shape()[0];
    long[] targetShape = target.getShape().getShape();
    long[] rest =
        t.shape().length == 0 ? new long[0] : Arrays.copyOfRange(t.shape(), 1, t.shape().length);
    if (targetShape.length != t.shape().length
        || !Arrays.equals(Arrays.copyOfRange(targetShape, 1, targetShape.length), rest)
        || rowOffset + rows > targetShape[0]) {
      throw new IllegalArgumentException(
          "tensor "
              + name
              + " "
              + t.shapeString()
              + " does not fit rows from "
              + rowOffset
              + " of "
              + target.getShape());
    }
    if (t.numel() == 0) {
      return;
    }
    long rowElems = t.numel() / rows;
    long chunkRows = chunkRows(t, rows, rowElems);
    ByteBuffer widen = widenBuffer(t, rows, rowElems);
    NDManager owner = target.getManager();
    try (NDManager scratch = owner.getEngine().newBaseManager(Device.cpu())) {
      for (long r0 = 0; r0 < rows; r0 += chunkRows) {
        long r1 = Math.min(rows, r0 + chunkRows);
        long[] partShape = t.shape().clone();
        partShape[0] = r1 - r0;
        long from = rowOffset + r0;
        long to = rowOffset + r1;
        withView(
            t,
            r0,
            r1,
            rowElems,
            scratch,
            widen,
            view -> {
              boolean direct = owner.getDevice().equals(Device.cpu()) && view.getDataType() == type;
              try (NDManager tmp = owner.newSubManager();
                  NDArray converted = direct ? null : copyTo(view, tmp, type);
                  NDArray shaped = (direct ? view : converted).reshape(new Shape(partShape))) {
                target.set(new NDIndex("{}:{}", from, to), shaped);
              }
              return null;
            });
      }
    } finally {
      if (widen != null) {
        release(widen);
      }
    }
  }

  /** What to do with a chunk's view; the view is only valid during the call. */
  @FunctionalInterface
  private interface ViewUse<R> {
    R apply(NDArray view);
  }

  /**
   * Rows [r0, r1) of a tensor as a flat CPU array viewing the mapped file (or, for bf16 and
   * misaligned data, the {@code widen} buffer) without copying. The mapping is released right after
   * {@code use} so it does not linger in the process until a GC happens to collect it.
   */
  private <R> R withView(
      TensorInfo t,
      long r0,
      long r1,
      long rowElems,
      NDManager scratch,
      ByteBuffer widen,
      ViewUse<R> use) {
    long elems = (r1 - r0) * rowElems;
    long offset = dataStart + t.begin() + r0 * rowElems * t.dtype().bytes();
    long length = elems * t.dtype().bytes();
    if (length > Integer.MAX_VALUE) {
      throw new ModelLoadException(path, "tensor " + t.name() + ": one row exceeds 2 GiB");
    }
    MappedByteBuffer mapped = map(offset, length);
    try {
      ByteBuffer src;
      DataType srcType;
      if (t.dtype() == SafetensorsDType.BF16) {
        ByteBuffer buf = widen;
        buf.clear();
        ShortBuffer in = mapped.order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        FloatBuffer outF = buf.asFloatBuffer();
        for (int i = 0; i < elems; i++) {
          outF.put(i, FloatBits.bf16ToFloat(in.get(i)));
        }
        buf.limit((int) (elems * 4));
        src = buf.slice().order(ByteOrder.nativeOrder());
        srcType = DataType.FLOAT32;
      } else {
        srcType = t.dtype() == SafetensorsDType.F32 ? DataType.FLOAT32 : DataType.FLOAT16;
        if ((offset % t.dtype().bytes()) != 0) {
          // libtorch kernels assume element-aligned data; realign through the scratch buffer.
          ByteBuffer buf = widen;
          buf.clear();
          buf.put(mapped.duplicate());
          buf.flip();
          src = buf.slice().order(ByteOrder.nativeOrder());
        } else {
          src = mapped.order(ByteOrder.nativeOrder());
        }
      }
      try (NDArray view = scratch.create(src, new Shape(elems), srcType)) {
        return use.apply(view);
      }
    } finally {
      release(mapped);
    }
  }

  /**
   * A copy of {@code view} of type {@code target} on {@code owner}'s device, attached to {@code
   * owner}.
   */
  private static NDArray copyTo(NDArray view, NDManager owner, DataType target) {
    NDArray copy;
    if (!owner.getDevice().equals(Device.cpu())) {
      NDArray moved = view.toDevice(owner.getDevice(), true);
      copy = moved.getDataType() == target ? moved : moved.toType(target, true);
    } else if (view.getDataType() == target) {
      copy = view.duplicate();
    } else {
      copy = view.toType(target, true);
    }
    copy.attach(owner);
    return copy;
  }

  private boolean misaligned(TensorInfo t) {
    return ((dataStart + t.begin()) % t.dtype().bytes()) != 0;
  }

  private TensorInfo requireFloat(String name) {
    TensorInfo t = info(name);
    if (!t.dtype().isLoadableFloat()) {
      throw new ModelLoadException(
          path,
          "tensor " + name + " has dtype " + t.dtype() + "; weights must be F32, F16 or BF16");
    }
    return t;
  }

  private MappedByteBuffer map(long offset, long length) {
    try {
      return channel.map(FileChannel.MapMode.READ_ONLY, offset, length);
    } catch (IOException e) {
      throw new ModelLoadException(
          path, "cannot map bytes " + offset + ".." + (offset + length) + ": " + e.getMessage(), e);
    }
  }

  private static void readFully(Path file, FileChannel channel, ByteBuffer buf, long position) {
    try {
      long pos = position;
      while (buf.hasRemaining()) {
        int n = channel.read(buf, pos);
        if (n < 0) {
          throw new ModelLoadException(file, "truncated: ended while reading the header");
        }
        pos += n;
      }
    } catch (IOException e) {
      throw new ModelLoadException(file, "cannot read: " + e.getMessage(), e);
    }
  }

  private static final Object UNSAFE;
  private static final Method INVOKE_CLEANER;

  static {
    Object unsafe = null;
    Method cleaner = null;
    try {
      Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
      Field f = unsafeClass.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      unsafe = f.get(null);
      cleaner = unsafeClass.getMethod("invokeCleaner", ByteBuffer.class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // Without it mappings are released by the GC instead: slower to free, still correct.
    }
    UNSAFE = unsafe;
    INVOKE_CLEANER = cleaner;
  }

  /**
   * Frees a mapping or direct buffer now rather than at some later GC; only called on buffers that
   * nothing (no NDArray view in particular) references any more.
   */
  private static void release(ByteBuffer buffer) {
    if (INVOKE_CLEANER == null) {
      return;
    }
    try {
      INVOKE_CLEANER.invoke(UNSAFE, buffer);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // Fall back to GC-driven release.
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Already failing with a clearer error.
    }
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }
}
