package dev.editforge.lora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.editforge.llm.Projection;
import dev.editforge.llm.ProjectionDelta;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code N} independent LoRA adapters of one {@link LoraConfig} on a device, stacked per target: A
 * {@code [N, r, in]}, B {@code [N, out, r]} (float32). One batched forward serves all of them: the
 * batch rows are grouped by adapter ({@code rowsPerGroup} consecutive rows per group, group {@code
 * g} using adapter {@code groupAdapters[g]}), and each target computes {@code scale * (x_g A_g^T)
 * B_g^T} for all groups with two batched matmuls. Groups may name any subset of the adapters in any
 * order (a gather selects their factors, and autograd routes gradients back to those slices only).
 *
 * <p>When the adapters carry {@link TrainableTokens} (same ids in all), their rows are stacked as
 * {@code [N, count, hidden]} too, trained with the factors, and the forward's embeddings and logits
 * of those ids come from each group's own rows instead of the frozen model's.
 *
 * <p>Not thread-safe; the creator closes it (which frees the factors).
 */
public final class LoraStack implements AutoCloseable {
  private final LoraConfig config;
  private final List<LoraTarget> targets;
  private final NDManager manager;
  private final NDArray[] a;
  private final NDArray[] b;

  /** [layer][projection ordinal] -> target index, -1 = not adapted. */
  private final int[][] slot;

  private final int size;

  /** Trainable rows of added tokens, {@code [N, count, hidden]}; null when there are none. */
  private NDArray tokenEmbed;

  /** LM-head rows of added tokens; null when tied to {@link #tokenEmbed} (or none). */
  private NDArray tokenHead;

  private int tokenStart;
  private int tokenCount;

  /**
   * alpha / r as a libtorch-owned scalar (a Java-backed one would dangle in autograd's saved
   * tensors).
   */
  private final NDArray scaling;

  private LoraStack(
      LoraConfig config,
      List<LoraTarget> targets,
      NDManager manager,
      NDArray[] a,
      NDArray[] b,
      int size) {
    this.config = config;
    this.targets = List.copyOf(targets);
    this.manager = manager;
    this.a = a;
    this.b = b;
    this.size = size;
    this.scaling = Tensors.owned(manager, new float[] {(float) config.scaling()}, new Shape(1));
    int layers = 0;
    for (LoraTarget t : targets) {
      layers = Math.max(layers, t.layer() + 1);
    }
    slot = new int[layers][Projection.values().length];
    for (int[] row : slot) {
      java.util.Arrays.fill(row, -1);
    }
    for (int i = 0; i < targets.size(); i++) {
      slot[targets.get(i).layer()][targets.get(i).projection().ordinal()] = i;
    }
  }

  /** Stacks {@code adapters} (same config and targets) on {@code device}. */
  public static LoraStack of(List<LoraAdapter> adapters, Device device) {
    if (adapters.isEmpty()) {
      throw new IllegalArgumentException("no adapters to stack");
    }
    LoraAdapter first = adapters.get(0);
    List<LoraTarget> targets = first.targets();
    for (LoraAdapter ad : adapters) {
      if (ad.config().rank() != first.config().rank()
          || ad.config().alpha() != first.config().alpha()
          || !ad.targets().equals(targets)) {
        throw new IllegalArgumentException("stacked adapters must share rank, alpha and targets");
      }
    }
    int n = adapters.size();
    int r = first.config().rank();
    NDManager manager = NDManager.newBaseManager(device, "PyTorch");
    try {
      NDArray[] a = new NDArray[targets.size()];
      NDArray[] b = new NDArray[targets.size()];
      for (int i = 0; i < targets.size(); i++) {
        LoraTarget t = targets.get(i);
        float[] as = new float[n * r * t.in()];
        float[] bs = new float[n * t.out() * r];
        for (int k = 0; k < n; k++) {
          LoraAdapter.Factors f = adapters.get(k).factors().get(t.key());
          System.arraycopy(f.a(), 0, as, k * r * t.in(), f.a().length);
          System.arraycopy(f.b(), 0, bs, k * t.out() * r, f.b().length);
        }
        a[i] = Tensors.owned(manager, as, new Shape(n, r, t.in()));
        b[i] = Tensors.owned(manager, bs, new Shape(n, t.out(), r));
      }
      LoraStack stack = new LoraStack(first.config(), targets, manager, a, b, n);
      TrainableTokens rows = first.trainableTokens();
      if (rows != null) {
        int h = rows.hidden();
        int c = rows.count();
        float[] embed = new float[n * c * h];
        float[] head = rows.tied() ? null : new float[n * c * h];
        for (int k = 0; k < n; k++) {
          TrainableTokens tk = adapters.get(k).trainableTokens();
          if (tk == null
              || tk.start() != rows.start()
              || tk.count() != c
              || tk.hidden() != h
              || tk.tied() != rows.tied()) {
            throw new IllegalArgumentException(
                "stacked adapters must share their trainable token ids (" + rows + ")");
          }
          System.arraycopy(tk.embed(), 0, embed, k * c * h, c * h);
          if (head != null) {
            System.arraycopy(tk.head(), 0, head, k * c * h, c * h);
          }
        }
        stack.tokenStart = rows.start();
        stack.tokenCount = c;
        stack.tokenEmbed = Tensors.owned(manager, embed, new Shape(n, c, h));
        stack.tokenHead = head == null ? null : Tensors.owned(manager, head, new Shape(n, c, h));
      } else {
        for (LoraAdapter ad : adapters) {
          if (ad.trainableTokens() != null) {
            throw new IllegalArgumentException(
                "stacked adapters must share their trainable token ids (the first has none)");
          }
        }
      }
      return stack;
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  public LoraConfig config() {
    return config;
  }

  public List<LoraTarget> targets() {
    return targets;
  }

  public int size() {
    return size;
  }

  /** A of target {@code i}, {@code [N, r, in]} (live: the trainer updates it in place). */
  NDArray a(int i) {
    return a[i];
  }

  NDArray b(int i) {
    return b[i];
  }

  /** Every factor array, A then B per target, then the token rows (embedding, LM head) if any. */
  List<NDArray> parameters() {
    List<NDArray> out = new ArrayList<>();
    for (int i = 0; i < a.length; i++) {
      out.add(a[i]);
      out.add(b[i]);
    }
    if (tokenEmbed != null) {
      out.add(tokenEmbed);
    }
    if (tokenHead != null) {
      out.add(tokenHead);
    }
    return out;
  }

  void requireGradients(boolean on) {
    for (NDArray p : parameters()) {
      p.setRequiresGradient(on);
    }
  }

  /** Adapter {@code n} copied to the heap. */
  public LoraAdapter adapter(int n) {
    Map<String, LoraAdapter.Factors> out = new LinkedHashMap<>();
    for (int i = 0; i < targets.size(); i++) {
      LoraTarget t = targets.get(i);
      try (NDArray an = a[i].get(n);
          NDArray bn = b[i].get(n)) {
        out.put(t.key(), new LoraAdapter.Factors(t, an.toFloatArray(), bn.toFloatArray()));
      }
    }
    TrainableTokens rows = null;
    if (tokenEmbed != null) {
      int h = (int) tokenEmbed.getShape().get(2);
      try (NDArray en = tokenEmbed.get(n);
          NDArray hn = tokenHead == null ? null : tokenHead.get(n)) {
        rows =
            new TrainableTokens(
                tokenStart,
                tokenCount,
                h,
                en.toFloatArray(),
                hn == null ? null : hn.toFloatArray());
      }
    }
    return new LoraAdapter(config, out, rows);
  }

  /** Overwrites adapter {@code n}'s factors with {@code adapter}'s (same targets). */
  public void set(int n, LoraAdapter adapter) {
    for (int i = 0; i < targets.size(); i++) {
      LoraTarget t = targets.get(i);
      LoraAdapter.Factors f = adapter.factors().get(t.key());
      if (f == null) {
        throw new IllegalArgumentException("adapter lacks target " + t.key());
      }
      try (NDManager m = manager.newSubManager()) {
        a[i].set(
            new ai.djl.ndarray.index.NDIndex("{}", n),
            m.create(f.a(), new Shape(config.rank(), t.in())));
        b[i].set(
            new ai.djl.ndarray.index.NDIndex("{}", n),
            m.create(f.b(), new Shape(t.out(), config.rank())));
      }
    }
    if (tokenEmbed != null) {
      TrainableTokens rows = adapter.trainableTokens();
      if (rows == null || rows.start() != tokenStart || rows.count() != tokenCount) {
        throw new IllegalArgumentException("adapter lacks the stack's trainable token rows");
      }
      Shape shape = new Shape(tokenCount, rows.hidden());
      try (NDManager m = manager.newSubManager()) {
        tokenEmbed.set(new ai.djl.ndarray.index.NDIndex("{}", n), m.create(rows.embed(), shape));
        if (tokenHead != null) {
          tokenHead.set(new ai.djl.ndarray.index.NDIndex("{}", n), m.create(rows.head(), shape));
        }
      }
    }
  }

  /**
   * The hook for a forward whose rows are grouped by adapter: {@code groupAdapters.length} groups
   * of {@code rowsPerGroup} consecutive rows, group g adapted by adapter {@code groupAdapters[g]}.
   * Index arrays are created on {@code owner}, which must outlive the forward.
   */
  public ProjectionDelta delta(NDManager owner, int[] groupAdapters, int rowsPerGroup) {
    return delta(owner, groupAdapters, rowsPerGroup, null);
  }

  /** Supplies dropout keep-masks (already scaled by 1/(1-p)) for group g of a target's input. */
  interface DropoutMasks {
    NDArray mask(NDManager m, int group, int rows, int time, LoraTarget target);
  }

  ProjectionDelta delta(
      NDManager owner, int[] groupAdapters, int rowsPerGroup, DropoutMasks dropout) {
    int groups = groupAdapters.length;
    boolean identity = groups == size;
    for (int g = 0; g < groups && identity; g++) {
      identity = groupAdapters[g] == g;
    }
    long[] idx = new long[groups];
    for (int g = 0; g < groups; g++) {
      if (groupAdapters[g] < 0 || groupAdapters[g] >= size) {
        throw new IllegalArgumentException(
            "adapter " + groupAdapters[g] + " not in a stack of " + size);
      }
      idx[g] = groupAdapters[g];
    }
    NDArray index = identity ? null : owner.create(idx);
    ProjectionDelta projections = projections(groups, rowsPerGroup, index, dropout);
    return tokenEmbed == null
        ? projections
        : new TokenRowsDelta(projections, groups, rowsPerGroup, index);
  }

  private ProjectionDelta projections(
      int groups, int rowsPerGroup, NDArray index, DropoutMasks dropout) {
    return (layer, module, x) -> {
      if (layer >= slot.length) {
        return null;
      }
      int i = slot[layer][Projection.byKey(module).ordinal()];
      if (i < 0) {
        return null;
      }
      Shape s = x.getShape();
      long rows = s.get(0);
      long time = s.get(1);
      long in = s.get(2);
      if (rows != (long) groups * rowsPerGroup) {
        throw new IllegalStateException(
            "batch of " + rows + " rows, expected " + groups + " x " + rowsPerGroup);
      }
      NDArray xf = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
      NDArray fa = index == null ? a[i] : a[i].get(index);
      NDArray fb = index == null ? b[i] : b[i].get(index);
      NDArray xg = xf.reshape(groups, rowsPerGroup * time, in);
      if (dropout != null) {
        List<NDArray> masks = new ArrayList<>();
        for (int g = 0; g < groups; g++) {
          masks.add(dropout.mask(x.getManager(), g, rowsPerGroup, (int) time, targets.get(i)));
        }
        xg = xg.mul(NDArrays.stack(new NDList(masks.toArray(new NDArray[0]))));
      }
      NDArray d =
          xg.matMul(fa.transpose(0, 2, 1))
              .matMul(fb.transpose(0, 2, 1))
              .mul(scaling)
              .reshape(rows, time, fb.getShape().get(1));
      return d.getDataType() == x.getDataType() ? d : d.toType(x.getDataType(), false);
    };
  }

  /**
   * The projections' LoRA delta plus the added tokens' rows: the embeddings of ids {@code start ..
   * start + count - 1} are replaced by the group's rows, and the logits of those ids are computed
   * from the group's LM-head rows (the embedding rows when tied). Gradients reach only those rows.
   */
  private final class TokenRowsDelta implements ProjectionDelta {
    private final ProjectionDelta projections;
    private final int groups;
    private final int rowsPerGroup;
    private final NDArray index;

    TokenRowsDelta(ProjectionDelta projections, int groups, int rowsPerGroup, NDArray index) {
      this.projections = projections;
      this.groups = groups;
      this.rowsPerGroup = rowsPerGroup;
      this.index = index;
    }

    @Override
    public NDArray delta(int layer, String module, NDArray x) {
      return projections.delta(layer, module, x);
    }

    /** {@code [G, count, hidden]}: each group's rows. */
    private NDArray rowsOf(NDArray stacked) {
      return index == null ? stacked : stacked.get(index);
    }

    @Override
    public NDArray embeddings(NDArray ids, NDArray x) {
      long rows = ids.getShape().get(0);
      long time = ids.getShape().get(1);
      long hidden = x.getShape().get(2);
      checkRows(rows);
      NDManager m = ids.getManager();
      NDArray local = ids.sub(tokenStart);
      NDArray added = local.gte(0).logicalAnd(local.lt(tokenCount));
      // Row g*count + i of the flattened [G*count, H] table is group g's row for token i.
      long[] offsets = new long[(int) rows];
      for (int r = 0; r < rows; r++) {
        offsets[r] = (long) (r / rowsPerGroup) * tokenCount;
      }
      NDArray lookup =
          local
              .maximum(0)
              .minimum(tokenCount - 1)
              .add(m.create(offsets, new Shape(rows, 1)))
              .toType(DataType.INT64, false);
      NDArray table = rowsOf(tokenEmbed).reshape((long) groups * tokenCount, hidden);
      NDArray picked =
          lookup
              .getNDArrayInternal()
              .embedding(lookup, table, SparseFormat.DENSE)
              .singletonOrThrow();
      if (picked.getDataType() != x.getDataType()) {
        picked = picked.toType(x.getDataType(), false);
      }
      NDArray keep = added.expandDims(2).toType(x.getDataType(), false);
      return x.add(picked.sub(x).mul(keep));
    }

    @Override
    public NDArray logits(NDArray hidden, NDArray logits) {
      long rows = hidden.getShape().get(0);
      long time = hidden.getShape().get(1);
      checkRows(rows);
      NDArray h =
          hidden.getDataType() == DataType.FLOAT32
              ? hidden
              : hidden.toType(DataType.FLOAT32, false);
      NDArray head = rowsOf(tokenHead == null ? tokenEmbed : tokenHead);
      NDArray added =
          h.reshape(groups, rowsPerGroup * time, h.getShape().get(2))
              .matMul(head.transpose(0, 2, 1))
              .reshape(rows, time, tokenCount);
      long vocab = logits.getShape().get(2);
      NDList parts = new NDList();
      if (tokenStart > 0) {
        parts.add(logits.get(":, :, :{}", tokenStart));
      }
      parts.add(added);
      if (tokenStart + tokenCount < vocab) {
        parts.add(logits.get(":, :, {}:", tokenStart + tokenCount));
      }
      return NDArrays.concat(parts, 2);
    }

    private void checkRows(long rows) {
      if (rows != (long) groups * rowsPerGroup) {
        throw new IllegalStateException(
            "batch of " + rows + " rows, expected " + groups + " x " + rowsPerGroup);
      }
    }
  }

  /**
   * Adapters for {@link dev.editforge.llm.LocalGenerator#generate(List,
   * dev.editforge.llm.BatchDelta)}: request {@code i} is answered with adapter {@code
   * adapterOfRequest[i]} of this stack, or by the base model when that is -1, whatever rows the
   * generator batches together. Each decode batch's small index arrays live on the stack's manager
   * until the stack is closed. Trainable token rows apply to adapted rows only, as the factors do.
   */
  public dev.editforge.llm.BatchDelta batchDelta(int[] adapterOfRequest) {
    int[] adapters = adapterOfRequest.clone();
    return rows -> {
      int[] groups = new int[rows.length];
      float[] keep = new float[rows.length];
      boolean any = false;
      for (int i = 0; i < rows.length; i++) {
        int a = adapters[rows[i]];
        groups[i] = Math.max(0, a);
        keep[i] = a < 0 ? 0f : 1f;
        any |= a >= 0;
      }
      if (!any) {
        return null;
      }
      ProjectionDelta inner = delta(manager, groups, 1);
      boolean allAdapted = true;
      for (float k : keep) {
        allAdapted &= k == 1f;
      }
      if (allAdapted) {
        return inner;
      }
      NDArray mask = Tensors.owned(manager, keep, new Shape(rows.length, 1, 1));
      return new ProjectionDelta() {
        @Override
        public NDArray delta(int layer, String module, NDArray x) {
          NDArray d = inner.delta(layer, module, x);
          return d == null ? null : d.mul(as(mask, d));
        }

        // Base-model rows keep the model's own token rows; adapted rows get their adapter's.
        @Override
        public NDArray embeddings(NDArray ids, NDArray x) {
          NDArray adapted = inner.embeddings(ids, x);
          return adapted == x ? x : x.add(adapted.sub(x).mul(as(mask, x)));
        }

        @Override
        public NDArray logits(NDArray hidden, NDArray logits) {
          NDArray adapted = inner.logits(hidden, logits);
          return adapted == logits ? logits : logits.add(adapted.sub(logits).mul(as(mask, logits)));
        }
      };
    };
  }

  private static NDArray as(NDArray mask, NDArray like) {
    return mask.getDataType() == like.getDataType() ? mask : mask.toType(like.getDataType(), false);
  }

  @Override
  public void close() {
    manager.close();
  }
}
