package dev.editforge.encoders;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The weights of a BERT encoder exported to ONNX by PyTorch, read straight from the protobuf wire
 * format (ModelProto.graph = 7; GraphProto.node = 1, .initializer = 5; NodeProto.input = 1, .name =
 * 3, .op_type = 4; TensorProto.dims = 1, .data_type = 2, .float_data = 4, .name = 8, .raw_data = 9,
 * .data_location = 14) and renamed to Hugging Face's BertModel names.
 *
 * <p>The exporter keeps parameter names for biases, norms and embeddings but turns every Linear
 * weight into an anonymous, transposed {@code onnx::MatMul_N} input; the MatMul node consuming it
 * is named after the module ({@code /encoder/layer.0/attention/self/query/MatMul}), which gives the
 * name back, and the weight is transposed back to {@code [out, in]}. Only float32 initializers are
 * returned (the int64 {@code position_ids} buffer is not a weight). Stateless.
 */
final class OnnxBertWeights {
  private static final int FLOAT = 1;

  /** One float32 tensor in row-major order. */
  record Tensor(String name, long[] shape, float[] data) {}

  private OnnxBertWeights() {}

  /** Every float32 weight of the model, keyed by its Hugging Face BertModel name. */
  static Map<String, Tensor> read(byte[] model) {
    Wire m = new Wire(model, 0, model.length);
    int[] graph = null;
    while (m.more()) {
      int tag = m.tag();
      if (tag >>> 3 == 7 && (tag & 7) == 2) {
        graph = m.span();
      } else {
        m.skip(tag);
      }
    }
    if (graph == null) {
      throw new EmbeddingException("not an ONNX model: no graph");
    }
    List<int[]> initializers = new ArrayList<>();
    Map<String, String> matmulByWeight = new HashMap<>();
    Wire g = new Wire(model, graph[0], graph[1]);
    while (g.more()) {
      int tag = g.tag();
      int field = tag >>> 3;
      if (field == 5 && (tag & 7) == 2) {
        initializers.add(g.span());
      } else if (field == 1 && (tag & 7) == 2) {
        int[] n = g.span();
        node(model, n, matmulByWeight);
      } else {
        g.skip(tag);
      }
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int[] span : initializers) {
      Tensor t = tensor(model, span);
      if (t == null) {
        continue;
      }
      String name = t.name();
      if (name.startsWith("onnx::")) {
        String module = matmulByWeight.get(name);
        if (module == null) {
          throw new EmbeddingException(
              "ONNX weight " + name + " feeds no MatMul node: cannot name it");
        }
        out.put(module + ".weight", transpose(module + ".weight", t));
      } else {
        out.put(name, t);
      }
    }
    return out;
  }

  private static void node(byte[] b, int[] span, Map<String, String> matmulByWeight) {
    Wire w = new Wire(b, span[0], span[1]);
    List<String> inputs = new ArrayList<>();
    String name = null;
    String op = null;
    while (w.more()) {
      int tag = w.tag();
      switch (tag >>> 3) {
        case 1 -> inputs.add(w.string());
        case 3 -> name = w.string();
        case 4 -> op = w.string();
        default -> w.skip(tag);
      }
    }
    if ("MatMul".equals(op)
        && inputs.size() == 2
        && inputs.get(1).startsWith("onnx::")
        && name != null
        && name.endsWith("/MatMul")) {
      String module =
          name.substring(name.startsWith("/") ? 1 : 0, name.length() - "/MatMul".length())
              .replace('/', '.');
      matmulByWeight.put(inputs.get(1), module);
    }
  }

  /** The tensor at {@code span}, or null when it is not float32. */
  private static Tensor tensor(byte[] b, int[] span) {
    Wire w = new Wire(b, span[0], span[1]);
    List<Long> dims = new ArrayList<>();
    int type = 0;
    String name = null;
    int[] raw = null;
    List<int[]> floatData = new ArrayList<>();
    List<Float> looseFloats = new ArrayList<>();
    while (w.more()) {
      int tag = w.tag();
      int field = tag >>> 3;
      int wt = tag & 7;
      if (field == 1 && wt == 0) {
        dims.add(w.varint());
      } else if (field == 1 && wt == 2) {
        int[] p = w.span();
        Wire d = new Wire(b, p[0], p[1]);
        while (d.more()) {
          dims.add(d.varint());
        }
      } else if (field == 2 && wt == 0) {
        type = (int) w.varint();
      } else if (field == 4 && wt == 2) {
        floatData.add(w.span());
      } else if (field == 4 && wt == 5) {
        looseFloats.add(Float.intBitsToFloat(w.fixed32()));
      } else if (field == 8 && wt == 2) {
        name = w.string();
      } else if (field == 9 && wt == 2) {
        raw = w.span();
      } else if (field == 14 && wt == 0) {
        if (w.varint() == 1) {
          throw new EmbeddingException(
              "ONNX tensor " + name + " keeps its data in an external file; not supported");
        }
      } else {
        w.skip(tag);
      }
    }
    if (type != FLOAT) {
      return null;
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    long numel = 1;
    for (long d : shape) {
      numel *= d;
    }
    float[] data = new float[Math.toIntExact(numel)];
    if (raw != null) {
      if (raw[1] - raw[0] != numel * 4) {
        throw new EmbeddingException(
            "ONNX tensor "
                + name
                + " has "
                + (raw[1] - raw[0])
                + " bytes for "
                + numel
                + " floats");
      }
      ByteBuffer.wrap(b, raw[0], raw[1] - raw[0])
          .order(ByteOrder.LITTLE_ENDIAN)
          .asFloatBuffer()
          .get(data);
    } else {
      int i = 0;
      for (int[] p : floatData) {
        ByteBuffer bb = ByteBuffer.wrap(b, p[0], p[1] - p[0]).order(ByteOrder.LITTLE_ENDIAN);
        while (bb.remaining() >= 4 && i < data.length) {
          data[i++] = bb.getFloat();
        }
      }
      for (Float f : looseFloats) {
        if (i < data.length) {
          data[i++] = f;
        }
      }
      if (i != data.length) {
        throw new EmbeddingException(
            "ONNX tensor " + name + " has " + i + " values for shape of " + numel);
      }
    }
    return new Tensor(name, shape, data);
  }

  private static Tensor transpose(String name, Tensor t) {
    if (t.shape().length != 2) {
      throw new EmbeddingException("MatMul weight " + t.name() + " is not a matrix");
    }
    int rows = (int) t.shape()[0];
    int cols = (int) t.shape()[1];
    float[] d = new float[t.data().length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        d[c * rows + r] = t.data()[r * cols + c];
      }
    }
    return new Tensor(name, new long[] {cols, rows}, d);
  }

  /** A cursor over protobuf wire-format bytes in [pos, end). */
  private static final class Wire {
    private final byte[] b;
    private int pos;
    private final int end;

    Wire(byte[] b, int pos, int end) {
      this.b = b;
      this.pos = pos;
      this.end = end;
    }

    boolean more() {
      return pos < end;
    }

    int tag() {
      return (int) varint();
    }

    long varint() {
      long r = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          throw new EmbeddingException("truncated ONNX protobuf");
        }
        byte x = b[pos++];
        r |= (long) (x & 0x7f) << shift;
        if ((x & 0x80) == 0) {
          return r;
        }
      }
      throw new EmbeddingException("malformed varint in ONNX protobuf");
    }

    int fixed32() {
      int v = ByteBuffer.wrap(b, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
      pos += 4;
      return v;
    }

    /** A length-delimited field's [start, end) and moves past it. */
    int[] span() {
      long len = varint();
      if (len < 0 || pos + len > end) {
        throw new EmbeddingException("ONNX protobuf field runs past its message");
      }
      int[] s = {pos, (int) (pos + len)};
      pos += (int) len;
      return s;
    }

    String string() {
      int[] s = span();
      return new String(b, s[0], s[1] - s[0], StandardCharsets.UTF_8);
    }

    void skip(int tag) {
      switch (tag & 7) {
        case 0 -> varint();
        case 1 -> pos += 8;
        case 2 -> span();
        case 5 -> pos += 4;
        default ->
            throw new EmbeddingException(
                "unsupported protobuf wire type " + (tag & 7) + " in ONNX model");
      }
    }
  }
}
