package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
  @TempDir Path dir;

  private static float[] randomFloats(int n, long seed) {
    Random r = new Random(seed);
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) r.nextGaussian() * 3;
    }
    return out;
  }

  @Test
  void writesAndReadsEveryFloatDtypeOnHeapAndIntoNdArrays() {
    float[] values = randomFloats(6 * 10, 1);
    Path file = dir.resolve("t.safetensors");
    new SafetensorsWriter()
        .metadata("purpose", "test")
        .addFloats("a.f32", SafetensorsDType.F32, new long[] {6, 10}, values)
        .addFloats("b.f16", SafetensorsDType.F16, new long[] {6, 10}, values)
        .addFloats("c.bf16", SafetensorsDType.BF16, new long[] {6, 10}, values)
        .write(file);
    try (SafetensorsFile f = SafetensorsFile.open(file);
        NDManager m = NDManager.newBaseManager()) {
      assertEquals("test", f.metadata().get("purpose"));
      assertEquals(java.util.List.of("a.f32", "b.f16", "c.bf16"), java.util.List.copyOf(f.names()));
      assertArrayEquals(values, f.readFloats("a.f32"));
      float[] f16 = f.readFloats("b.f16");
      float[] bf16 = f.readFloats("c.bf16");
      for (int i = 0; i < values.length; i++) {
        assertEquals(values[i], f16[i], Math.abs(values[i]) * 1e-3 + 1e-4, "f16 at " + i);
        assertEquals(values[i], bf16[i], Math.abs(values[i]) * 8e-3 + 1e-6, "bf16 at " + i);
      }
      NDArray a = f.load("a.f32", m, DataType.FLOAT32);
      assertArrayEquals(new long[] {6, 10}, a.getShape().getShape());
      assertArrayEquals(values, a.toFloatArray());
      assertArrayEquals(f16, f.load("b.f16", m, DataType.FLOAT32).toFloatArray());
      assertArrayEquals(bf16, f.load("c.bf16", m, DataType.FLOAT32).toFloatArray());
      NDArray half = f.load("a.f32", m, DataType.FLOAT16);
      assertEquals(DataType.FLOAT16, half.getDataType());
    }
  }

  @Test
  void chunkedLoadingEqualsWholeLoading() {
    float[] values = randomFloats(7 * 5, 2);
    Path file = dir.resolve("c.safetensors");
    new SafetensorsWriter()
        .addFloats("w", SafetensorsDType.F32, new long[] {7, 5}, values)
        .addFloats("b", SafetensorsDType.BF16, new long[] {7, 5}, values)
        .write(file);
    // 40 bytes per chunk: two F32 rows or four BF16 rows, so several chunks and a ragged last one.
    try (SafetensorsFile f = SafetensorsFile.open(file, 40);
        SafetensorsFile whole = SafetensorsFile.open(file);
        NDManager m = NDManager.newBaseManager()) {
      assertArrayEquals(values, f.load("w", m, DataType.FLOAT32).toFloatArray());
      assertArrayEquals(whole.readFloats("b"), f.load("b", m, DataType.FLOAT32).toFloatArray());
    }
  }

  @Test
  void readsTensorsThatStartAtUnalignedOffsets() throws IOException {
    // A hand-written header of odd length puts the F32 data at an address that is not 4-aligned.
    float[] values = {1.5f, -2.25f, 3f, 4f, 5f, 6f};
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
    assertTrue((8 + header.length()) % 4 != 0);
    Path file = dir.resolve("odd.safetensors");
    ByteBuffer data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      data.putFloat(v);
    }
    writeRaw(file, header, data.array());
    try (SafetensorsFile f = SafetensorsFile.open(file, 12);
        NDManager m = NDManager.newBaseManager()) {
      assertArrayEquals(values, f.readFloats("w"));
      assertArrayEquals(values, f.load("w", m, DataType.FLOAT32).toFloatArray());
    }
  }

  @Test
  void rejectsFileShorterThanTheHeaderLength() throws IOException {
    Path file = dir.resolve("short.safetensors");
    Files.write(file, new byte[] {1, 2, 3});
    assertProblem(file, "truncated");
  }

  @Test
  void rejectsHeaderLengthBeyondTheFile() throws IOException {
    Path file = dir.resolve("long.safetensors");
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(1L << 40);
    Files.write(file, b.array());
    assertProblem(file, "does not fit the file");
  }

  @Test
  void rejectsHeaderThatIsNotJson() throws IOException {
    Path file = dir.resolve("json.safetensors");
    writeRaw(file, "{not json", new byte[0]);
    assertProblem(file, "not valid JSON");
  }

  @Test
  void rejectsUnknownDtype() throws IOException {
    Path file = dir.resolve("dtype.safetensors");
    writeRaw(file, "{\"w\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
    ModelLoadException e = assertProblem(file, "unknown dtype F99");
    assertTrue(e.getMessage().contains("BF16"), "lists the known dtypes: " + e.getMessage());
  }

  @Test
  void rejectsOffsetsBeyondTheDataOfATruncatedFile() throws IOException {
    Path file = dir.resolve("cut.safetensors");
    new SafetensorsWriter().addF32("w", new long[] {4, 4}, new float[16]).write(file);
    byte[] all = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(all, all.length - 10));
    assertProblem(file, "outside the data section");
  }

  @Test
  void rejectsShapeThatDisagreesWithTheByteRange() throws IOException {
    Path file = dir.resolve("shape.safetensors");
    writeRaw(
        file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[3,3],\"data_offsets\":[0,16]}}", new byte[16]);
    assertProblem(file, "needs 36 bytes but data offsets give 16");
  }

  @Test
  void refusesToLoadNonFloatTensorsAsWeightsButOpensTheFile() throws IOException {
    Path file = dir.resolve("ints.safetensors");
    ByteBuffer ints = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1).putLong(2);
    ints.flip();
    new SafetensorsWriter().addBytes("pos", SafetensorsDType.I64, new long[] {2}, ints).write(file);
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertEquals(2, f.bytes("pos").getLong(8));
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> f.readFloats("pos"));
      assertTrue(
          e.getMessage().contains("I64") && e.getMessage().contains("F32, F16 or BF16"),
          e.getMessage());
    }
  }

  @Test
  void shardedCheckpointMatchesTheSingleFileOne() {
    ModelConfig c = TinyModels.config(TinyModels.Family.QWEN2, TinyModels.Size.TINY);
    Path single = dir.resolve("single");
    Path sharded = dir.resolve("sharded");
    RandomDecoderWriter.write(single, c, 5, SafetensorsDType.F32, 1);
    RandomDecoderWriter.write(sharded, c, 5, SafetensorsDType.F32, 3);
    assertTrue(Files.exists(sharded.resolve(SafetensorsCheckpoint.INDEX_FILE)));
    assertTrue(Files.exists(sharded.resolve("model-00003-of-00003.safetensors")));
    try (SafetensorsCheckpoint a = SafetensorsCheckpoint.open(single);
        SafetensorsCheckpoint b = SafetensorsCheckpoint.open(sharded)) {
      assertEquals(DecoderLayout.expectedShapes(c).keySet(), b.names());
      for (String name : a.names()) {
        assertArrayEquals(a.readFloats(name), b.readFloats(name), name);
      }
      assertTrue(
          !b.fileOf(DecoderLayout.EMBED).path().equals(b.fileOf(DecoderLayout.FINAL_NORM).path()));
    }
  }

  @Test
  void indexNamingAMissingShardIsReported() throws IOException {
    ModelConfig c = TinyModels.config(TinyModels.Family.LLAMA, TinyModels.Size.TINY);
    Path sharded = dir.resolve("m");
    RandomDecoderWriter.write(sharded, c, 5, SafetensorsDType.F32, 2);
    Files.delete(sharded.resolve("model-00002-of-00002.safetensors"));
    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> SafetensorsCheckpoint.open(sharded));
    assertTrue(
        e.getMessage().contains("model-00002-of-00002.safetensors")
            && e.getMessage().contains("missing"),
        e.getMessage());
  }

  @Test
  void pickleOnlyDirectoryIsRefusedWithTheConversionCommand() throws IOException {
    Path model = dir.resolve("pickled");
    Files.createDirectories(model);
    Files.writeString(model.resolve("config.json"), "{}");
    Files.write(model.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> SafetensorsCheckpoint.open(model));
    String msg = e.getMessage();
    assertTrue(msg.contains("pytorch_model.bin"), msg);
    assertTrue(msg.contains("arbitrary code"), msg);
    assertTrue(msg.contains("save_pretrained(d, safe_serialization=True)"), msg);
    assertTrue(msg.startsWith(model.toString()), msg);
  }

  @Test
  void halfPrecisionConversionsRoundCorrectly() {
    assertEquals(1.0f, FloatBits.f16ToFloat(FloatBits.floatToF16(1.0f)));
    assertEquals(65504f, FloatBits.f16ToFloat(FloatBits.floatToF16(65504f)));
    assertEquals(Float.POSITIVE_INFINITY, FloatBits.f16ToFloat(FloatBits.floatToF16(1e6f)));
    assertEquals(0x1p-24f, FloatBits.f16ToFloat(FloatBits.floatToF16(0x1p-24f)));
    assertEquals((short) 0x3C00, FloatBits.floatToF16(1.0f));
    // 1 + 2^-11 is halfway between two f16 values: ties go to the even mantissa (1.0).
    assertEquals((short) 0x3C00, FloatBits.floatToF16(1f + 0x1p-11f));
    assertEquals((short) 0x3F80, FloatBits.floatToBf16(1.0f));
    assertTrue(Float.isNaN(FloatBits.bf16ToFloat(FloatBits.floatToBf16(Float.NaN))));
  }

  private static ModelLoadException assertProblem(Path file, String expected) {
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsFile.open(file));
    assertTrue(
        e.getMessage().contains(file.getFileName().toString()),
        "names the file: " + e.getMessage());
    assertTrue(e.getMessage().contains(expected), "says \"" + expected + "\": " + e.getMessage());
    return e;
  }

  private static void writeRaw(Path file, String header, byte[] data) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h).put(data);
    Files.write(file, b.array());
  }
}
