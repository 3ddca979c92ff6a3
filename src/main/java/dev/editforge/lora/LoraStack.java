package dev.editforge.lora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
      return new LoraStack(first.config(), targets, manager, a, b, n);
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

  /** Every factor array, A then B per target. */
  List<NDArray> parameters() {
    List<NDArray> out = new ArrayList<>();
    for (int i = 0; i < a.length; i++) {
      out.add(a[i]);
      out.add(b[i]);
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
    return new LoraAdapter(config, out);
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
   * Adapters for {@link dev.editforge.llm.LocalGenerator#generate(List,
   * dev.editforge.llm.BatchDelta)}: request {@code i} is answered with adapter {@code
   * adapterOfRequest[i]} of this stack, or by the base model when that is -1, whatever rows the
   * generator batches together. Each decode batch's small index arrays live on the stack's manager
   * until the stack is closed.
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
      return (layer, module, x) -> {
        NDArray d = inner.delta(layer, module, x);
        return d == null
            ? null
            : d.mul(
                mask.getDataType() == d.getDataType() ? mask : mask.toType(d.getDataType(), false));
      };
    };
  }

  @Override
  public void close() {
    manager.close();
  }
}
